/**
 * `POST /v1/authorize {token, repository, action}`: the Worker's question. A good signature always
 * gets a 200 with the answer; `allowed: false` says why in `reason`.
 */
import { Hono } from "hono";
import { AuthorizeRequestSchema, type AuthorizeResponse } from "../../schema/sidecar.ts";
import { authenticate, decide, roleOn } from "../access.ts";
import type { Db } from "../db.ts";
import { jsonBody } from "../errors.ts";

/** Mounted at /v1/authorize. */
export function authorizeRoutes(db: Db): Hono {
  return new Hono().post("/", async (c) => {
    const input = await jsonBody(c, AuthorizeRequestSchema);
    const auth = await authenticate(db, input.token);
    const role = auth.ok && input.repository !== null ? await roleOn(db, auth.caller, input.repository) : null;
    const answer: AuthorizeResponse = decide(auth, role, input.repository, input.action);
    return c.json(answer);
  });
}
