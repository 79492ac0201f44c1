/**
 * Every `/v1/…` request comes from the Worker, signed with the shared secret (schema/sidecar.ts):
 * `x-armor-signature` = hex HMAC-SHA256(secret, `${timestamp}\n${METHOD}\n${path}\n${body}`), with
 * `x-armor-timestamp` in unix seconds. A missing or wrong signature, or a timestamp more than
 * `REPLAY_WINDOW_SECONDS` from this clock (a replayed request), is refused with 401 `bad_signature`.
 *
 * The window bounds replays; there is no nonce store, because the Worker legitimately sends the same
 * signed request twice within a second (two cache misses on one token), and both must succeed.
 *
 * `path` is the request's path and query as a URL parser normalizes them (`new URL(url)`), the
 * same form the Worker's `fetch` puts on the wire.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import { REPLAY_WINDOW_SECONDS, SIGNATURE_HEADER, signedPayload, TIMESTAMP_HEADER } from "../../schema/sidecar.ts";
import { fail } from "../errors.ts";

/** Bodies are small JSON documents; anything bigger is refused before it is hashed. */
export const MAX_BODY_BYTES = 64 * 1024;

/** Hex HMAC-SHA256 of the signed payload: what the Worker sends, and what tests sign with. */
export function sign(secret: string, timestamp: string, method: string, path: string, body: string): string {
  return createHmac("sha256", secret)
    .update(signedPayload(timestamp, method, path, body), "utf8")
    .digest("hex");
}

/** Refuse a request whose signature or timestamp is missing, wrong or outside the replay window. */
export function verifySignature(secret: string, nowMs: () => number = Date.now): MiddlewareHandler {
  return async (c, next) => {
    const timestamp = c.req.header(TIMESTAMP_HEADER);
    const signature = c.req.header(SIGNATURE_HEADER);
    if (timestamp === undefined || signature === undefined) {
      return fail("bad_signature", `the request must be signed: send ${TIMESTAMP_HEADER} and ${SIGNATURE_HEADER}`);
    }
    if (!/^\d{1,12}$/.test(timestamp)) {
      return fail("bad_signature", `${TIMESTAMP_HEADER} must be unix time in seconds`);
    }
    const skew = Math.abs(Math.floor(nowMs() / 1000) - Number(timestamp));
    if (skew > REPLAY_WINDOW_SECONDS) {
      return fail(
        "bad_signature",
        `${TIMESTAMP_HEADER} is ${skew} s away from the sidecar's clock (at most ${REPLAY_WINDOW_SECONDS} s): a replayed request, or clocks out of sync`,
      );
    }
    const declared = Number(c.req.header("content-length") ?? "0");
    if (declared > MAX_BODY_BYTES) return fail("body_too_large", `request bodies are at most ${MAX_BODY_BYTES} bytes`);
    // Hono keeps the text, so handlers read the same body again.
    const body = await c.req.text();
    if (Buffer.byteLength(body) > MAX_BODY_BYTES) {
      return fail("body_too_large", `request bodies are at most ${MAX_BODY_BYTES} bytes`);
    }
    const url = new URL(c.req.url);
    const expected = Buffer.from(sign(secret, timestamp, c.req.method, url.pathname + url.search, body), "hex");
    const wellFormed = /^[0-9a-f]{64}$/i.test(signature);
    // A malformed signature is compared too (as zeros), so every refusal costs the same.
    const given = wellFormed ? Buffer.from(signature, "hex") : Buffer.alloc(expected.length);
    if (!(timingSafeEqual(expected, given) && wellFormed)) {
      return fail(
        "bad_signature",
        "the request signature does not match: the Worker's SIDECAR_SECRET and the sidecar's ARMOR_SIDECAR_SECRET must be the same",
      );
    }
    await next();
  };
}
