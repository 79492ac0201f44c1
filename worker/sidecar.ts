/**
 * Talking to the accounts sidecar (DESIGN.md §6; the contract is schema/sidecar.ts). Every request
 * is signed with the shared secret over a timestamp, the method, the path and the body, so the
 * sidecar can refuse forgeries and replays.
 */
import { toHex } from "../deb/hash.ts";
import { SIGNATURE_HEADER, signedPayload, TIMESTAMP_HEADER } from "../schema/sidecar.ts";

export interface SidecarConfig {
  url: string;
  secret: string;
}

/** The sidecar's settings, or null when this deployment has none (operator-token mode). */
export function sidecarConfig(env: Env): SidecarConfig | null {
  const url = env.SIDECAR_URL;
  const secret = env.SIDECAR_SECRET;
  if (typeof url !== "string" || url === "" || typeof secret !== "string" || secret === "") return null;
  return { url: url.replace(/\/+$/, ""), secret };
}

async function hmacHex(secret: string, payload: string): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(payload));
  return toHex(mac);
}

/**
 * Send a signed request to the sidecar. `path` includes the query string. `bearer` is the caller's
 * own token for the management endpoints the Worker proxies. Network failures throw.
 */
export async function sidecarFetch(
  config: SidecarConfig,
  method: string,
  path: string,
  body: string,
  bearer?: string,
): Promise<Response> {
  const timestamp = String(Math.floor(Date.now() / 1000));
  const headers = new Headers({
    [TIMESTAMP_HEADER]: timestamp,
    [SIGNATURE_HEADER]: await hmacHex(config.secret, signedPayload(timestamp, method, path, body)),
  });
  if (body !== "") headers.set("content-type", "application/json");
  if (bearer !== undefined) headers.set("authorization", `Bearer ${bearer}`);
  return fetch(`${config.url}${path}`, {
    method,
    headers,
    ...(body === "" || method === "GET" ? {} : { body }),
    signal: AbortSignal.timeout(5000),
  });
}
