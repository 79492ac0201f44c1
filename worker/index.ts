/**
 * The edge Worker: one Hono app for apt serving, the upload API and the admin API.
 *
 * Host routing (DESIGN.md §2): a hostname configured in D1 serves its repository at `/`; the
 * platform hosts (PLATFORM_HOSTS) serve the API and every repository by path, `/{owner}/{name}/…`;
 * any other host gets 404 `unknown_host` and never another tenant's data.
 */
import { Hono } from "hono";
import { RepositoryHostnameSchema, RepositoryIdSchema } from "../schema/index-document.ts";
import type { ApiEnv } from "./context.ts";
import { ApiFailure, errorResponse, fail, parseWith } from "./errors.ts";
import { loadRepository, repositoryNamed } from "./middleware/repository.ts";
import { pageRoute, servePage } from "./pages/serve.tsx";
import { repositoryById, repositoryForHost } from "./repositories.ts";
import { accountRoutes } from "./routes/accounts.ts";
import { adminRoutes } from "./routes/admin.ts";
import { aptSegments, serveApt } from "./routes/apt.ts";
import { docsRoutes } from "./routes/docs.ts";
import { packageRoutes } from "./routes/packages.ts";
import { releaseRoutes } from "./routes/releases.ts";
import { webhookRoutes } from "./routes/webhooks.ts";
import { consumeWebhooks } from "./webhooks/consumer.ts";

export { RepositoryObject } from "../objects/repository/repository-object.ts";

export const app = new Hono<{ Bindings: Env }>();

/** Requests for a configured repository hostname are apt requests; nothing else is served there. */
app.use("*", async (c, next) => {
  const host = new URL(c.req.url).hostname.toLowerCase();
  if (platformHosts(c.env).has(host)) return next();
  const repo = await repositoryForHost(c.env.DB, host);
  if (repo === null) return fail("unknown_host", `${host} is not a repository served by Armor`);
  // A person's browser gets the repository's pages (worker/pages/route.ts); apt's paths are apt's.
  const page = pageRoute(c.req.raw, 0);
  if (page !== null) return servePage(c, repo, page);
  return serveApt(c, repo, aptSegments(new URL(c.req.url).pathname));
});

app.get("/healthz", (c) => c.json({ ok: true }));

/**
 * A repository named by a hostname it is served at (DESIGN.md §2): `/api/v1/repositories/{host}/…`
 * and `/admin/v1/repositories/{host}/…` are answered as the same request under its `owner/name`.
 * An id has a slash and its owner no dot, a hostname a dot and no slash, so the first segment says
 * which form it is. This is the one place the API resolves a hostname.
 */
const BY_HOSTNAME = /^\/(api|admin)\/v1\/repositories\/([^/]*\.[^/]*)(\/.*)?$/;
app.use("/:area/v1/repositories/*", async (c, next) => {
  const url = new URL(c.req.url);
  const m = BY_HOSTNAME.exec(url.pathname);
  if (m === null) return next();
  const [, area, raw = "", rest = ""] = m;
  let decoded: string;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    return fail("invalid_request", "the repository is not valid percent-encoding");
  }
  const host = parseWith(RepositoryHostnameSchema, decoded, "repository");
  const repo = await repositoryForHost(c.env.DB, host);
  if (repo === null) {
    return fail("unknown_host", `no repository is served at ${host}; name it by owner/name or a hostname it has`, {
      hostname: host,
    });
  }
  url.pathname = `/${area}/v1/repositories/${repo.id}${rest}`;
  return app.fetch(new Request(url, c.req.raw), c.env, c.executionCtx);
});

const api = new Hono<ApiEnv>();
// Hono's trailing /* also matches the bare /repositories/:owner/:name.
api.use("/repositories/:owner/:name/*", loadRepository);
api.route("/", docsRoutes);
api.route("/", accountRoutes);
api.route("/repositories/:owner/:name", packageRoutes);
api.route("/repositories/:owner/:name", releaseRoutes);
api.route("/repositories/:owner/:name", webhookRoutes);
app.route("/api/v1", api);
app.route("/admin/v1", adminRoutes);

/**
 * Repositories by path on the platform host: /{owner}/{name}/dists/…, /{owner}/{name}/pool/…, and
 * their web pages (/{owner}/{name}/ for a browser, /{owner}/{name}/-/…).
 */
app.on(["GET", "HEAD"], "/:owner/:name/*", async (c) => {
  const page = pageRoute(c.req.raw, 2);
  const [owner, name, ...rest] = aptSegments(page?.root ?? new URL(c.req.url).pathname);
  const repo = await repositoryNamed(c.env.DB, owner, name);
  if (page !== null) return servePage(c, repo, page);
  return serveApt(c, repo, rest);
});
/** Other methods on a repository's apt paths: 405 with `Allow` (serveApt); anything else is no route. */
app.all("/:owner/:name/*", async (c, next) => {
  const id = RepositoryIdSchema.safeParse(`${c.req.param("owner")}/${c.req.param("name")}`);
  const repo = id.success ? await repositoryById(c.env.DB, id.data) : null;
  if (repo === null) return next();
  return serveApt(c, repo, aptSegments(new URL(c.req.url).pathname).slice(2));
});

app.notFound((c) => errorResponse(c, { code: "not_found", message: `no route for ${c.req.method} ${c.req.path}` }));

app.onError((err, c) => {
  if (err instanceof ApiFailure) return errorResponse(c, err.error, err.headers);
  console.error("unhandled error", err);
  return errorResponse(c, { code: "internal_error", message: "internal error; it has been logged" });
});

function platformHosts(env: Env): Set<string> {
  return new Set(env.PLATFORM_HOSTS.split(",").map((h) => h.trim().toLowerCase()));
}

/** HTTP for everything, and the webhook queue's consumer (worker/webhooks/consumer.ts). */
export default {
  fetch: app.fetch,
  queue: (batch, env) => consumeWebhooks(batch, env),
} satisfies ExportedHandler<Env>;
