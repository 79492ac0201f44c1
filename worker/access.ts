/**
 * The one seam where the Worker asks "may this principal do this to this repository"
 * (DESIGN.md §6). Every route calls `authorize` and nothing else decides access.
 *
 * Until the sidecar lands, the only credential is the operator token (`ARMOR_ADMIN_TOKEN`, a
 * Worker secret), which may do everything; public repositories are readable by anyone. The
 * sidecar issue replaces the body of `decide` with a call to `/v1/authorize`.
 */
import { apiError } from "../schema/errors.ts";
import { ApiFailure } from "./errors.ts";
import type { RepositoryRow } from "./repositories.ts";

/** What a request wants to do. Roles map onto these: viewer → read; uploader → write; admin → admin. */
export type Action = "read" | "write" | "admin";

export interface Principal {
  kind: "anonymous" | "operator";
  name: string;
}

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
 * Decide, or throw the `unauthorized` / `forbidden` failure the client should see. Apt reads of
 * private repositories get a Basic challenge so apt knows to send its auth.conf credentials.
 */
export async function authorize(
  c: { env: Env; req: { raw: Request } },
  repository: RepositoryRow | null,
  action: Action,
): Promise<Principal> {
  const token = credentialOf(c.req.raw);
  if (token !== null && (await isOperatorToken(c.env, token))) return { kind: "operator", name: "operator" };
  if (action === "read" && repository?.visibility === "public") return { kind: "anonymous", name: "anonymous" };
  if (token === null) {
    throw new ApiFailure(
      apiError(
        "unauthorized",
        "this needs credentials: send an API token (Authorization: Bearer, or Basic with the token as password)",
      ),
      {
        "www-authenticate": 'Basic realm="armor", charset="UTF-8"',
      },
    );
  }
  throw new ApiFailure(apiError("forbidden", "this token may not do that here"));
}

async function isOperatorToken(env: Env, token: string): Promise<boolean> {
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
