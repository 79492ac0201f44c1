/**
 * Where a webhook may point. Deliveries are POSTs the Worker makes on a repository admin's behalf,
 * so a receiver URL must not turn them against Armor itself: not its API hosts (PLATFORM_HOSTS),
 * not a hostname a repository is served at (a loop, or a request the receiver could not tell from
 * a client's). A loopback receiver is for local development only: allowed when the Worker itself
 * was reached on loopback (wrangler dev, the tests), and on a port other than the Worker's own.
 */
import { isRepositoryHostname } from "../../d1/webhooks.ts";

export type UrlVerdict = { ok: true; url: string } | { ok: false; message: string };

/** A URL's hostname as compared here: lowercase, without IPv6 brackets or a final dot (`example.com.`). */
export function bareHost(hostname: string): string {
  return hostname
    .replace(/^\[|\]$/g, "")
    .replace(/\.$/, "")
    .toLowerCase();
}

/** Is `host` a loopback name or address (RFC 6761 §6.3 `localhost`, 127.0.0.0/8, ::1)? */
export function isLoopback(host: string): boolean {
  const h = bareHost(host);
  return h === "localhost" || h.endsWith(".localhost") || /^127(?:\.\d{1,3}){3}$/.test(h) || h === "::1";
}

function effectivePort(url: URL): string {
  return url.port || (url.protocol === "https:" ? "443" : "80");
}

function platformHosts(env: Env): Set<string> {
  return new Set(
    env.PLATFORM_HOSTS.split(",")
      .map((h) => h.trim().toLowerCase())
      .filter((h) => h !== ""),
  );
}

/**
 * Check a receiver URL when a webhook is added: http(s) only, no credentials in it (they would be
 * shown by every read; the secret is what authenticates), and not Armor's own (see above).
 * `requestUrl` is the URL the Worker was reached at, which says whether this is local development.
 */
export async function checkReceiverUrl(env: Env, raw: string, requestUrl: string): Promise<UrlVerdict> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return {
      ok: false,
      message: `url "${raw}" is not an absolute URL; give one such as https://ci.example.com/hooks/armor`,
    };
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    return { ok: false, message: `url must be http:// or https://, not ${url.protocol}//` };
  }
  if (url.username !== "" || url.password !== "") {
    return {
      ok: false,
      message: "url must not carry credentials (user:password@): deliveries are signed with the webhook's secret",
    };
  }
  url.hash = "";
  const host = bareHost(url.hostname);
  const self = new URL(requestUrl);
  if (isLoopback(host)) {
    if (!isLoopback(self.hostname)) {
      return {
        ok: false,
        message: `url points at ${host}, a loopback address, which the Worker cannot reach when deployed`,
      };
    }
    if (effectivePort(url) === effectivePort(self)) {
      return {
        ok: false,
        message: `url points at this Armor itself (${host}:${effectivePort(url)}); a local receiver must listen on another port`,
      };
    }
    return { ok: true, url: url.toString() };
  }
  const refusal = await ownHostRefusal(env, host);
  return refusal === null ? { ok: true, url: url.toString() } : { ok: false, message: refusal };
}

/**
 * Why a (non-loopback) host may not receive deliveries, or null: it is one of Armor's API hosts or
 * a repository's hostname. Asked again before every send, since a hostname may be given to a
 * repository after the webhook was added.
 */
export async function ownHostRefusal(env: Env, host: string): Promise<string | null> {
  const h = bareHost(host);
  if (isLoopback(h)) return null;
  if (platformHosts(env).has(h)) return `url points at ${h}, Armor's own API host; a webhook must go elsewhere`;
  if (await isRepositoryHostname(env.DB, h)) {
    return `url points at ${h}, a hostname a repository is served at by Armor; a webhook must go elsewhere`;
  }
  return null;
}
