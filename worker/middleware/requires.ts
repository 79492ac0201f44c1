/**
 * Authorization as route middleware, the way Hono's own middleware reads: `requires("write")` in
 * front of a handler asks `authorize` (worker/access.ts, the one place that decides) whether the
 * caller may do that to the repository `loadRepository` put on the context, or, with
 * `"platform"`, to the platform itself (creating and listing repositories). The principal it
 * answers with is `c.get("principal")`.
 */
import type { MiddlewareHandler } from "hono";
import { type Action, authorize } from "../access.ts";
import type { ApiEnv } from "../context.ts";

export function requires(action: Action, on: "repository" | "platform" = "repository"): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    c.set("principal", await authorize(c, on === "platform" ? null : c.get("repository"), action));
    await next();
  };
}
