/**
 * Upload limits over a real HTTP connection (the local stack): a request or part declaring more
 * than the Worker takes is answered from its Content-Length at once, while the body is still on
 * its way, rather than after the client has sent all it declared. Through exports.default.fetch
 * (test/worker/) an unread body never holds the answer back, so only a socket shows this.
 */
import { connect, type Socket } from "node:net";
import { afterAll, beforeAll, describe, it } from "vitest";
import { type LocalStack, startLocalStack } from "../helpers/local-stack.ts";

let stack: LocalStack;

beforeAll(async () => {
  stack = await startLocalStack();
}, 60_000);

afterAll(async () => {
  await stack?.close();
});

const HUGE = 200 * 1024 * 1024;

/**
 * Send a request whose body declares `length` bytes but only ever trickles (a KiB every 50 ms,
 * never finishing), and resolve with the answer's status and body once it has fully arrived, or
 * null if none came while the body was still being sent (within `patience` ms).
 */
function answerWhileSending(
  method: string,
  path: string,
  headers: Record<string, string>,
  patience = 15_000,
): Promise<{ status: number; body: string } | null> {
  const url = new URL(stack.endpoint);
  return new Promise((resolve) => {
    let socket: Socket | undefined;
    const trickle = setInterval(() => socket?.write(Buffer.alloc(1024)), 50);
    const giveUp = setTimeout(() => done(null), patience);
    let received = Buffer.alloc(0);
    function done(answer: { status: number; body: string } | null) {
      clearInterval(trickle);
      clearTimeout(giveUp);
      socket?.destroy();
      resolve(answer);
    }
    socket = connect(Number(url.port), url.hostname, () => {
      const head = [
        `${method} ${path} HTTP/1.1`,
        `host: ${url.host}`,
        ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
      ];
      socket?.write(`${head.join("\r\n")}\r\n\r\n`);
    });
    socket.on("data", (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const text = received.toString("latin1");
      const end = text.indexOf("\r\n\r\n");
      if (end < 0) return;
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]);
      const length = Number(/\r\ncontent-length: *(\d+)/i.exec(text.slice(0, end))?.[1]);
      const body = received.subarray(end + 4);
      if (body.length >= length) done({ status, body: body.subarray(0, length).toString("utf8") });
    });
    socket.on("error", () => done(null));
  });
}

async function newRepo(name: string): Promise<string> {
  const id = `acme/${name}`;
  const res = await fetch(`${stack.endpoint}/admin/v1/repositories`, {
    method: "POST",
    headers: { authorization: `Bearer ${stack.token}` },
    body: JSON.stringify({ id }),
  });
  if (res.status !== 201) throw new Error(`creating ${id}: ${res.status} ${await res.text()}`);
  return id;
}

const sha256 = "a".repeat(64);

describe("a body above the limit is refused while it is still being sent", () => {
  it("PUT …/blobs/{sha256} declaring more than 100 MB: 413 body_too_large", async ({ expect }) => {
    const repo = await newRepo("limit-single");
    const answer = await answerWhileSending("PUT", `/api/v1/repositories/${repo}/blobs/${sha256}`, {
      authorization: `Bearer ${stack.token}`,
      "content-length": String(HUGE),
    });
    expect(answer?.status).toBe(413);
    expect(JSON.parse(answer?.body ?? "{}")).toMatchObject({
      error: { code: "body_too_large", details: { size: HUGE, limit: 100 * 1024 * 1024 } },
    });
  }, 30_000);

  it("PUT …/uploads/{sha256}/parts/{n} declaring more than 100 MB: 413 body_too_large", async ({ expect }) => {
    const repo = await newRepo("limit-part");
    const start = await fetch(`${stack.endpoint}/api/v1/repositories/${repo}/uploads`, {
      method: "POST",
      headers: { authorization: `Bearer ${stack.token}` },
      body: JSON.stringify({ sha256, size: HUGE * 2 }),
    });
    const { upload_id } = (await start.json()) as { upload_id: string };
    const answer = await answerWhileSending(
      "PUT",
      `/api/v1/repositories/${repo}/uploads/${sha256}/parts/1?upload_id=${encodeURIComponent(upload_id)}`,
      { authorization: `Bearer ${stack.token}`, "content-length": String(HUGE) },
    );
    expect(answer?.status).toBe(413);
    expect(JSON.parse(answer?.body ?? "{}")).toMatchObject({ error: { code: "body_too_large" } });
  }, 30_000);
});
