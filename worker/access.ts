/**
 * The one seam where the Worker asks "may this principal do this to this repository"
 * (DESIGN.md §6). Every route calls `authorize` and nothing else decides access.
 *
 * - Public repositories are readable without credentials, and with any (they are ignored).
 * - With a sidecar configured (`SIDECAR_URL`, `SIDECAR_SECRET`), a token is checked by
 *   `POST /v1/authorize`; answers are cached in the edge cache for `AUTH_CACHE_SECONDS` (default
 *   30), keyed by a hash of the token (never the token itself) and the repository's scope.
 * - The operator token (`ARMOR_ADMIN_TOKEN`), when set, may do everything: it is the only credential
 *   of a deployment without a sidecar, and the break-glass credential of one with it.
 * - When the sidecar cannot be reached, everything that needs it fails closed with 503, except a
 *   read whose answer is still cached.
 */
import type { Context } from "hono";
import { toHex } from "../deb/hash.ts";
import { apiError } from "../schema/errors.ts";
import { type Action, AuthorizeResponseSchema } from "../schema/sidecar.ts";
import { ApiFailure } from "./errors.ts";
import type { RepositoryRow } from "./repositories.ts";
import { sidecarConfig, sidecarFetch } from "./sidecar.ts";

export type { Action };

export interface Principal {
  kind: "anonymous" | "operator" | "token";
  name: string;
}

type Ctx = { env: Env; req: { raw: Request; url: string }; executionCtx: Context["executionCtx"] };

const MAX_TOKEN_LENGTH = 512;
const CHALLENGE = { "www-authenticate": 'Basic realm="armor", charset="UTF-8"' };

/** The token a request carries: `Authorization: Bearer <token>`, or HTTP Basic with the token as password (apt's auth.conf). */
export function credentialOf(request: Request): string | null {
  const header = request.headers.get("authorization");
  if (header === null) return null;
  const [scheme, value = ""] = header.split(/\s+/, 2);
  if (scheme?.toLowerCase() === "bearer") return value || null;
  if (scheme?.toLowerCase() === "basic") {
    try {
      const decoded = atob(value);
      const colon = decoded.indexOf(":");
      return colon < 0 ? null : decoded.slice(colon + 1) || null;
    } catch {
      return null;
    }
  }
  return null;
}

/**
 * Decide, or throw the failure the client should see: 401 with a Basic challenge (so apt sends
 * its auth.conf credentials), 403 naming the missing role, or 503 when the sidecar is down.
 */
export async function authorize(c: Ctx, repository: RepositoryRow | null, action: Action): Promise<Principal> {
  // A public read needs nothing, so whatever credentials come with it are ignored, over HTTP too:
  // apt sends a global auth.conf entry's credentials wherever the host matches, and proxies add
  // their own. Only credentials that would be used are refused in cleartext.
  if (action === "read" && repository?.visibility === "public") return { kind: "anonymous", name: "anonymous" };
  const token = credentialOf(c.req.raw);
  if (token !== null) refuseCleartext(c.req.url);
  if (token !== null && (await isOperatorToken(c.env, token))) return { kind: "operator", name: "operator" };
  if (token === null) {
    throw new ApiFailure(
      apiError(
        "unauthorized",
        "this needs credentials: send an API token (Authorization: Bearer, or Basic with the token as password)",
      ),
      CHALLENGE,
    );
  }
  const config = sidecarConfig(c.env);
  if (config === null) throw new ApiFailure(apiError("forbidden", "this token may not do that here"));
  // Tokens are short (armor_<prefix>_<secret>); anything longer is not one, and the sidecar would refuse it.
  if (token.length > MAX_TOKEN_LENGTH)
    throw new ApiFailure(apiError("unauthorized", "this token is not valid"), CHALLENGE);
  const answer = await ask(c, config, token, repository, action);
  if (answer.allowed && answer.principal !== null) return { kind: "token", name: answer.principal.account };
  const where = repository === null ? "this platform" : repository.id;
  if (answer.principal === null) {
    const why =
      answer.reason === "revoked" ? "was revoked" : answer.reason === "expired" ? "has expired" : "is not valid";
    throw new ApiFailure(
      apiError("unauthorized", `this token ${why}; create a new one with armor token create`),
      CHALLENGE,
    );
  }
  const has = answer.role === null ? "no role" : `the ${answer.role} role`;
  throw new ApiFailure(
    apiError(
      "forbidden",
      `this needs the ${answer.required_role} role on ${where}; ${answer.principal.account} has ${has}`,
      {
        required_role: answer.required_role,
        role: answer.role,
      },
    ),
  );
}

/** The token, sent as the caller's own credential on requests the Worker proxies to the sidecar. */
export function bearerOf(c: { req: { raw: Request } }): string | undefined {
  return credentialOf(c.req.raw) ?? undefined;
}

/** Credentials in cleartext travel only over loopback (local development). */
function refuseCleartext(requestUrl: string): void {
  const url = new URL(requestUrl);
  if (url.protocol === "https:") return;
  const host = url.hostname.replace(/^\[|\]$/g, "");
  if (host === "localhost" || host === "::1" || host.startsWith("127.")) return;
  throw new ApiFailure(
    apiError(
      "forbidden",
      "credentials are only accepted over HTTPS; use https:// (plain HTTP is allowed on loopback only)",
    ),
  );
}

async function ask(
  c: Ctx,
  config: { url: string; secret: string },
  token: string,
  repository: RepositoryRow | null,
  action: Action,
) {
  const cache = caches.default;
  const tokenHash = await sha256Hex(token);
  // Keyed by the repository's scope, not its id: an answer about a deleted repository never
  // applies to a successor created under the same id (DESIGN.md §4b).
  const key = `https://authz.armor.internal/${tokenHash}/${repository?.scope ?? "-"}/${action}`;
  const hit = await cache.match(key);
  if (hit) return AuthorizeResponseSchema.parse(await hit.json());
  let res: Response;
  try {
    res = await sidecarFetch(
      config,
      "POST",
      "/v1/authorize",
      JSON.stringify({ token, repository: repository?.id ?? null, action }),
    );
  } catch (cause) {
    console.error("the sidecar is unreachable", cause);
    throw new ApiFailure(apiError("unavailable", "access control is unavailable right now; try again shortly"), {
      "retry-after": "5",
    });
  }
  if (!res.ok) {
    console.error("the sidecar refused an authorize call", res.status, await res.text());
    throw new ApiFailure(apiError("unavailable", "access control is unavailable right now; try again shortly"), {
      "retry-after": "5",
    });
  }
  const answer = AuthorizeResponseSchema.parse(await res.json());
  const ttl = cacheSeconds(c.env);
  if (ttl > 0) {
    c.executionCtx.waitUntil(cache.put(key, Response.json(answer, { headers: { "cache-control": `max-age=${ttl}` } })));
  }
  return answer;
}

function cacheSeconds(env: Env): number {
  const n = Number(env.AUTH_CACHE_SECONDS ?? "30");
  return Number.isFinite(n) && n >= 0 ? n : 30;
}

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return toHex(digest);
}

/** Whether `token` is the deployment's operator token (compared by digest, in constant time). */
export async function isOperatorToken(env: Env, token: string): Promise<boolean> {
  const expected = env.ARMOR_ADMIN_TOKEN;
  if (typeof expected !== "string" || expected.length === 0) return false;
  // Compare digests, so the comparison takes the same time whatever the lengths.
  const encoder = new TextEncoder();
  const [a, b] = await Promise.all([
    crypto.subtle.digest("SHA-256", encoder.encode(token)),
    crypto.subtle.digest("SHA-256", encoder.encode(expected)),
  ]);
  return crypto.subtle.timingSafeEqual(a, b);
}
