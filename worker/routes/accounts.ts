/**
 * Accounts, tokens and grants live in the sidecar; the Worker is the CLI's one endpoint, so it
 * passes these requests through, signed with the shared secret and carrying the caller's own token
 * (which the sidecar authenticates itself):
 *
 *   GET /api/v1/whoami                                        → /v1/whoami (the operator token is answered here)
 *   GET|POST /api/v1/tokens, DELETE /api/v1/tokens/:id        → /v1/tokens
 *   GET|POST /api/v1/accounts                                 → /v1/accounts
 *   GET|POST|DELETE /api/v1/repositories/:owner/:name/access  → /v1/grants (repository filled in)
 */
import { type Context, Hono } from "hono";
import { apiError } from "../../schema/errors.ts";
import type { Whoami } from "../../schema/sidecar.ts";
import { bearerOf, isOperatorToken } from "../access.ts";
import type { ApiEnv } from "../context.ts";
import { ApiFailure, fail } from "../errors.ts";
import { sidecarConfig, sidecarFetch } from "../sidecar.ts";

export const accountRoutes = new Hono<ApiEnv>();

/** Who the caller's token is: the operator token is answered here, an account's token by the sidecar. */
accountRoutes.get("/whoami", async (c) => {
  const bearer = bearerOf(c);
  if (bearer !== undefined && (await isOperatorToken(c.env, bearer))) {
    const operator: Whoami = { kind: "operator", account: "operator", platform_admin: true, token: null, grants: [] };
    return c.json(operator);
  }
  if (sidecarConfig(c.env) === null) {
    throw new ApiFailure(
      apiError(
        "unauthorized",
        bearer === undefined
          ? "this needs your API token (Authorization: Bearer)"
          : "this token is not valid here: this deployment has no accounts, only the operator token",
      ),
    );
  }
  return forward(c, "/v1/whoami");
});
accountRoutes.on(["GET", "POST"], "/tokens", (c) => forward(c, "/v1/tokens"));
accountRoutes.delete("/tokens/:id", (c) => forward(c, `/v1/tokens/${encodeURIComponent(c.req.param("id"))}`));
accountRoutes.on(["GET", "POST"], "/accounts", (c) => forward(c, "/v1/accounts"));

// The repository was loaded (middleware/repository.ts) by the API below which these routes are mounted.
accountRoutes.on(["GET", "POST", "DELETE"], "/repositories/:owner/:name/access", async (c) => {
  const repository = c.get("repository").id;
  if (c.req.method === "GET") return forward(c, `/v1/grants?repository=${encodeURIComponent(repository)}`, "");
  let body: unknown;
  try {
    body = JSON.parse((await c.req.text()) || "{}");
  } catch {
    return fail("invalid_request", "the request body must be JSON");
  }
  if (typeof body !== "object" || body === null || Array.isArray(body))
    return fail("invalid_request", "the request body must be a JSON object");
  return forward(c, "/v1/grants", JSON.stringify({ ...body, repository }));
});

async function forward(c: Context<ApiEnv>, path: string, body?: string): Promise<Response> {
  const config = sidecarConfig(c.env);
  if (config === null) {
    return fail(
      "unavailable",
      "accounts are not enabled on this deployment (no SIDECAR_URL); the operator token is the only credential",
    );
  }
  const bearer = bearerOf(c);
  if (bearer === undefined) {
    throw new ApiFailure(apiError("unauthorized", "this needs your API token (Authorization: Bearer)"));
  }
  const query = c.req.method === "GET" && !path.includes("?") ? new URL(c.req.url).search : "";
  const text = body ?? (c.req.method === "GET" ? "" : await c.req.text());
  let res: Response;
  try {
    res = await sidecarFetch(config, c.req.method, `${path}${query}`, text, bearer);
  } catch (cause) {
    console.error("the sidecar is unreachable", cause);
    return fail("unavailable", "accounts are unavailable right now; try again shortly");
  }
  if (res.status === 401 && (await res.clone().text()).includes('"bad_signature"')) {
    // Our signature was refused: the Worker and the sidecar disagree on the secret or the clock.
    console.error("the sidecar refused the Worker's signature: check SIDECAR_SECRET and the clocks");
    return fail("unavailable", "accounts are unavailable right now (the service is misconfigured); try again later");
  }
  // The sidecar answers in the same envelope; pass status and body through.
  const headers = new Headers({
    "content-type": res.headers.get("content-type") ?? "application/json",
    vary: "Authorization",
  });
  return new Response(res.body, { status: res.status, headers });
}
