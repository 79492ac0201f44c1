/**
 * The management endpoints carry the caller's own token (`Authorization: Bearer …`), which the
 * Worker passes through; the sidecar authenticates it exactly as `/v1/authorize` does.
 */
import type { Context, MiddlewareHandler } from "hono";
import { authenticate, type Caller, type InvalidTokenReason } from "../access.ts";
import type { SidecarEnv } from "../context.ts";
import type { Db } from "../db.ts";
import { fail } from "../errors.ts";

const WHY: Record<InvalidTokenReason, string> = {
  unknown_token: "is not valid; check it, or create a new one with armor token create",
  revoked: "was revoked; create a new one with armor token create",
  expired: "has expired; create a new one with armor token create",
};

/** The caller, or null when the request carries no Authorization header; an invalid token is a 401. */
export async function callerOf(c: Context, db: Db): Promise<Caller | null> {
  const header = c.req.header("authorization");
  if (header === undefined) return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (match?.[1] === undefined) return fail("unauthorized", "the Authorization header must be: Bearer <API token>");
  const auth = await authenticate(db, match[1]);
  if (!auth.ok) return fail("unauthorized", `this API token ${WHY[auth.reason]}`, { reason: auth.reason });
  return auth.caller;
}

/** Refuse requests without a valid token; put the caller on the context. */
export function requireCaller(db: Db): MiddlewareHandler<SidecarEnv> {
  return async (c, next) => {
    const caller = await callerOf(c, db);
    if (caller === null) return fail("unauthorized", "this needs your API token: send Authorization: Bearer <token>");
    c.set("caller", caller);
    await next();
  };
}
