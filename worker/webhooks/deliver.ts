/**
 * One HTTP attempt at a delivery, signed as GitHub signs its webhooks, so receivers can reuse their
 * verification code: `X-Armor-Signature: sha256=<hex HMAC-SHA256 (RFC 2104) of the raw body, keyed
 * by the webhook's secret>`.
 */
import type { DeliveryAttempt } from "../../schema/webhooks.ts";

/** A receiver that has not answered by then has failed this attempt. */
export const DELIVERY_TIMEOUT_MS = 10_000;
/** How much of a failing receiver's answer is kept in the attempt's `error`. */
const ERROR_BODY_CHARS = 200;
const USER_AGENT = "armor-webhooks/1";

/** `sha256=` and the hex HMAC-SHA256 of `body` keyed by `secret`. */
export async function signatureOf(secret: string, body: string): Promise<string> {
  const encoder = new TextEncoder();
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  const mac = await crypto.subtle.sign("HMAC", key, encoder.encode(body));
  return `sha256=${[...new Uint8Array(mac)].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
}

export interface Outgoing {
  url: string;
  secret: string;
  event: string;
  deliveryId: string;
  webhookId: string;
  /** The exact bytes to send and sign. */
  body: string;
}

/**
 * POST the delivery and say how it went. Success is a 2xx answer; a redirect is not followed (it
 * counts as a failure: the receiver is asked to give its final URL), so a delivery never lands
 * anywhere the URL check did not see.
 */
export async function send(out: Outgoing, fetcher: typeof fetch = fetch): Promise<DeliveryAttempt & { ok: boolean }> {
  const at = new Date().toISOString();
  const started = Date.now();
  const duration = () => Math.max(0, Date.now() - started);
  let res: Response;
  try {
    res = await fetcher(out.url, {
      method: "POST",
      redirect: "manual",
      signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
      headers: {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "x-armor-event": out.event,
        "x-armor-delivery": out.deliveryId,
        "x-armor-webhook": out.webhookId,
        "x-armor-signature": await signatureOf(out.secret, out.body),
      },
      body: out.body,
    });
  } catch (cause) {
    const timedOut = cause instanceof Error && (cause.name === "TimeoutError" || cause.name === "AbortError");
    const error = timedOut
      ? `no answer within ${DELIVERY_TIMEOUT_MS / 1000} s`
      : `could not connect: ${cause instanceof Error ? cause.message : String(cause)}`;
    return { ok: false, at, status: null, duration_ms: duration(), error };
  }
  if (res.status >= 200 && res.status < 300) {
    await res.body?.cancel();
    return { ok: true, at, status: res.status, duration_ms: duration(), error: null };
  }
  const excerpt = await startOf(res);
  const where =
    res.status >= 300 && res.status < 400
      ? ` (redirects are not followed: ${res.headers.get("location") ?? "no Location"})`
      : "";
  return {
    ok: false,
    at,
    status: res.status,
    duration_ms: duration(),
    error: `HTTP ${res.status}${where}${excerpt === "" ? "" : `: ${excerpt}`}`,
  };
}

/** The first characters of a failing receiver's answer (a hint for `webhook deliveries`), without reading it all. */
async function startOf(res: Response): Promise<string> {
  const reader = res.body?.getReader();
  if (reader === undefined) return "";
  try {
    const first = await reader.read();
    const text = first.done ? "" : new TextDecoder().decode(first.value.slice(0, ERROR_BODY_CHARS * 4));
    return text.slice(0, ERROR_BODY_CHARS).trim();
  } catch {
    // Only a hint: a receiver that cuts its answer short failed all the same.
    return "";
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}
