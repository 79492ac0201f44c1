/**
 * A man in the middle for apt: an HTTP proxy (apt's `Acquire::http::Proxy`) that forwards every
 * request to where apt asked and lets a test rewrite the response body on its way back, as an
 * attacker on the network path could.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

export interface TamperingProxy {
  /** http://127.0.0.1:PORT/, for `Acquire::http::Proxy`. */
  url: string;
  /** Absolute URLs of the responses `tamper` changed. */
  tampered: string[];
  close(): Promise<void>;
}

/** `tamper` returns the bytes to send instead, or null to pass the response through untouched. */
export async function startTamperingProxy(tamper: (url: URL, body: Buffer) => Buffer | null): Promise<TamperingProxy> {
  const tampered: string[] = [];
  const server = createServer((req, res) => {
    void (async () => {
      // Through a proxy apt sends the absolute form (RFC 9112 §3.2.2): GET http://host/path HTTP/1.1.
      let target: URL;
      try {
        target = new URL(req.url ?? "");
      } catch {
        res.writeHead(400).end("absolute-form request target expected\n");
        return;
      }
      const headers: Record<string, string> = {};
      const auth = req.headers.authorization;
      if (auth !== undefined) headers.authorization = auth;
      try {
        const upstream = await fetch(target, { method: req.method ?? "GET", headers, redirect: "manual" });
        const original = Buffer.from(await upstream.arrayBuffer());
        const changed = upstream.status === 200 ? tamper(target, original) : null;
        if (changed !== null) tampered.push(target.href);
        const body = changed ?? original;
        const out: Record<string, string> = { "content-length": String(body.length) };
        for (const name of ["content-type", "last-modified", "www-authenticate"]) {
          const value = upstream.headers.get(name);
          if (value !== null) out[name] = value;
        }
        res.writeHead(upstream.status, out);
        res.end(req.method === "HEAD" ? undefined : body);
      } catch (cause) {
        res.writeHead(502).end(`upstream failed: ${String(cause)}\n`);
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    tampered,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((e) => (e ? reject(e) : resolve()));
      }),
  };
}
