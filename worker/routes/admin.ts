/**
 * Operators' endpoints, below /admin/v1:
 *
 *   POST   /repositories                               create {id, visibility, hostnames, may_reuse_versions, retention_days}
 *   GET    /repositories                               every repository, with its hostnames
 *   GET    /repositories/:owner/:name                  the edge's row (visibility, active release, hostnames)
 *   DELETE /repositories/:owner/:name                  delete it: D1 rows first (the edge stops serving), then its object and
 *                                                      blobs (202 if R2 failed part way: the object's alarm finishes it)
 *   PUT    /repositories/:owner/:name/hostnames/:host  serve the repository at this hostname
 *   DELETE /repositories/:owner/:name/hostnames/:host
 *   GET    /repositories/:owner/:name/stats            counts, bytes, dirty indexes
 *   POST   /repositories/:owner/:name/reindex          mark every index of the open release dirty
 *   POST   /repositories/:owner/:name/fsck             every pointer has its blob, with the right hash
 *   POST   /repositories/:owner/:name/gc               delete what no release within retention needs
 */
import { type Context, Hono } from "hono";
import { newRepositoryUid, repositoryScope } from "../../objects/repository/blobs.ts";
import { CreateRepositorySchema, GcSchema, HostnameSchema } from "../../schema/api.ts";
import { RepositoryIdSchema } from "../../schema/index-document.ts";
import { authorize, bearerOf, type Principal } from "../access.ts";
import { fail, jsonBody, parseWith, unwrap } from "../errors.ts";
import { forgetHostname, forgetRepository, type RepositoryRow, repositoryById } from "../repositories.ts";
import { sidecarConfig, sidecarFetch } from "../sidecar.ts";
import { repositoryStub } from "../stub.ts";
import { deleteRepositoryWebhooks } from "../webhooks/store.ts";

type AdminEnv = { Bindings: Env; Variables: { repository: RepositoryRow } };

export const adminRoutes = new Hono<AdminEnv>();

adminRoutes.post("/repositories", async (c) => {
  const principal = await authorize(c, null, "admin");
  const input = await jsonBody(c, CreateRepositorySchema);
  if ((await c.env.DB.prepare("SELECT 1 FROM repositories WHERE id = ?").bind(input.id).first()) !== null) {
    return fail("repository_exists", `repository ${input.id} already exists`);
  }
  for (const host of input.hostnames) {
    if ((await c.env.DB.prepare("SELECT 1 FROM hostnames WHERE hostname = ?").bind(host).first()) !== null) {
      return fail("hostname_taken", `hostname ${host} already serves another repository`);
    }
  }
  const platform = platformBase(c.req.url, input.id);
  // The scheme the platform is reached with: https when deployed, http under `wrangler dev`, where a
  // hostname is reached through the local Worker as an HTTP proxy. The Release's `Snapshots:`
  // template names this root, so it must be one the client can reach as it reached the repository.
  const scheme = new URL(c.req.url).protocol;
  const baseUrl = input.hostnames[0] === undefined ? platform : `${scheme}//${input.hostnames[0]}`;
  const now = new Date().toISOString();
  // A fresh creation id: this lifetime's object, blobs and cache entries are its own (DESIGN.md §4b).
  const uid = newRepositoryUid();
  const scope = repositoryScope(input.id, uid);
  // D1's unique keys (repository id, hostname) decide between simultaneous creates, before
  // anything else is touched: the one refused here has created nothing, so it undoes nothing.
  // Undoing the account layer's registration here would take it, and its creator's admin grant,
  // from the create that won (DESIGN.md §4b).
  try {
    await c.env.DB.batch([
      c.env.DB.prepare(
        "INSERT INTO repositories (id, uid, visibility, active_release, created_at) VALUES (?, ?, ?, NULL, ?)",
      ).bind(input.id, uid, input.visibility, now),
      ...input.hostnames.map((h) =>
        c.env.DB.prepare("INSERT INTO hostnames (hostname, repository_id) VALUES (?, ?)").bind(h, input.id),
      ),
    ]);
  } catch (cause) {
    console.error("creating a repository row failed", cause);
    return fail("repository_exists", `repository ${input.id} or one of its hostnames already exists`);
  }
  try {
    // The account layer learns of the repository (its creator becomes its admin), then its object.
    await registerWithSidecar(c, "POST", "/v1/repositories", JSON.stringify({ id: input.id }), principal);
    unwrap(
      await repositoryStub(c.env, scope).configure({
        id: input.id,
        uid,
        mayReuseVersions: input.may_reuse_versions,
        retentionSeconds: input.retention_days * 86_400,
        baseUrl,
      }),
    );
  } catch (cause) {
    // Leave no half-created repository behind: the edge must not route to a repository the
    // account layer or the object does not know. The rows are this request's own.
    await c.env.DB.batch([
      c.env.DB.prepare("DELETE FROM hostnames WHERE repository_id = ?").bind(input.id),
      c.env.DB.prepare("DELETE FROM repositories WHERE id = ?").bind(input.id),
    ]);
    forgetRepository(input.id);
    throw cause;
  }
  forgetRepository(input.id);
  return c.json({ ...input, base_url: baseUrl }, 201);
});

adminRoutes.get("/repositories", async (c) => {
  await authorize(c, null, "admin");
  const rows = await c.env.DB.prepare(
    `SELECT r.id, r.visibility, r.active_release, r.created_at, group_concat(h.hostname, ' ') AS hostnames
     FROM repositories r LEFT JOIN hostnames h ON h.repository_id = r.id GROUP BY r.id ORDER BY r.id`,
  ).all<{
    id: string;
    visibility: string;
    active_release: string | null;
    created_at: string;
    hostnames: string | null;
  }>();
  return c.json({
    repositories: rows.results.map((r) => ({
      id: r.id,
      visibility: r.visibility,
      active_release: r.active_release,
      created_at: r.created_at,
      hostnames: r.hostnames === null ? [] : r.hostnames.split(" ").sort(),
    })),
  });
});

adminRoutes.delete("/repositories/:owner/:name", async (c) => {
  const id = parseWith(RepositoryIdSchema, `${c.req.param("owner")}/${c.req.param("name")}`, "repository");
  const repo = await repositoryById(c.env.DB, id);
  if (repo === null) return fail("repository_not_found", `no repository ${id}`);
  const principal = await authorize(c, repo, "admin");
  await registerWithSidecar(c, "DELETE", `/v1/repositories/${id}`, "", principal);
  // Its webhooks and their delivery history go with its row: none fires for a successor (they are
  // keyed by uid too), and none is left behind.
  await c.env.DB.batch([
    ...deleteRepositoryWebhooks(c.env.DB, id),
    c.env.DB.prepare("DELETE FROM hostnames WHERE repository_id = ?").bind(id),
    c.env.DB.prepare("DELETE FROM repositories WHERE id = ?").bind(id),
  ]);
  forgetRepository(id);
  // Its successor under this id gets a new uid, so a new object, new R2 keys and new cache keys:
  // whatever this destroy fails to remove is unreachable from it.
  const result = unwrap(await repositoryStub(c.env, repo.scope).destroy());
  // 202 when R2 failed part way: the repository is gone from the edge, and its object's alarm
  // removes the rest of its files.
  return c.json({ deleted: id, ...result }, result.finished ? 200 : 202);
});

adminRoutes.use("/repositories/:owner/:name/*", async (c, next) => {
  const id = parseWith(RepositoryIdSchema, `${c.req.param("owner")}/${c.req.param("name")}`, "repository");
  const repo = await repositoryById(c.env.DB, id);
  if (repo === null) return fail("repository_not_found", `no repository ${id}`);
  await authorize(c, repo, "admin");
  c.set("repository", repo);
  await next();
});

adminRoutes.get("/repositories/:owner/:name", async (c) => {
  const id = parseWith(RepositoryIdSchema, `${c.req.param("owner")}/${c.req.param("name")}`, "repository");
  const repo = await repositoryById(c.env.DB, id);
  if (repo === null) return fail("repository_not_found", `no repository ${id}`);
  await authorize(c, repo, "admin");
  const hosts = await c.env.DB.prepare("SELECT hostname FROM hostnames WHERE repository_id = ? ORDER BY hostname")
    .bind(id)
    .all<{ hostname: string }>();
  return c.json({
    id: repo.id,
    visibility: repo.visibility,
    active_release: repo.activeRelease,
    hostnames: hosts.results.map((h) => h.hostname),
  });
});

adminRoutes.put("/repositories/:owner/:name/hostnames/:host", async (c) => {
  const repo = c.get("repository");
  const host = parseWith(HostnameSchema, c.req.param("host"), "hostname");
  const owner = await c.env.DB.prepare("SELECT repository_id FROM hostnames WHERE hostname = ?").bind(host).first();
  if (owner !== null && owner.repository_id !== repo.id) {
    return fail("hostname_taken", `hostname ${host} already serves another repository`);
  }
  await c.env.DB.prepare("INSERT OR IGNORE INTO hostnames (hostname, repository_id) VALUES (?, ?)")
    .bind(host, repo.id)
    .run();
  forgetHostname(host);
  return c.json({ hostname: host, repository: repo.id });
});

adminRoutes.delete("/repositories/:owner/:name/hostnames/:host", async (c) => {
  const repo = c.get("repository");
  const host = parseWith(HostnameSchema, c.req.param("host"), "hostname");
  const result = await c.env.DB.prepare("DELETE FROM hostnames WHERE hostname = ? AND repository_id = ?")
    .bind(host, repo.id)
    .run();
  if (result.meta.changes === 0) return fail("not_found", `hostname ${host} does not serve ${repo.id}`);
  forgetHostname(host);
  return c.body(null, 204);
});

adminRoutes.get("/repositories/:owner/:name/stats", async (c) => {
  return c.json(unwrap(await repositoryStub(c.env, c.get("repository").scope).stats()));
});

adminRoutes.post("/repositories/:owner/:name/reindex", async (c) => {
  return c.json(unwrap(await repositoryStub(c.env, c.get("repository").scope).reindex()));
});

adminRoutes.post("/repositories/:owner/:name/fsck", async (c) => {
  return c.json(unwrap(await repositoryStub(c.env, c.get("repository").scope).fsck()));
});

adminRoutes.post("/repositories/:owner/:name/gc", async (c) => {
  const input = await jsonBody(c, GcSchema);
  return c.json(
    unwrap(await repositoryStub(c.env, c.get("repository").scope).gc({ graceSeconds: input.grace_seconds })),
  );
});

/**
 * Tell the sidecar (when there is one) about a repository created or deleted, as the caller: its
 * token makes the creator the repository's admin. The operator token is not an account, so its
 * requests go without one. Failing to reach the sidecar fails the request (closed).
 */
async function registerWithSidecar(
  c: Context<AdminEnv>,
  method: string,
  path: string,
  body: string,
  principal: Principal,
): Promise<void> {
  const config = sidecarConfig(c.env);
  if (config === null) return;
  let res: Response;
  try {
    res = await sidecarFetch(config, method, path, body, principal.kind === "token" ? bearerOf(c) : undefined);
  } catch (cause) {
    console.error("the sidecar is unreachable", cause);
    return fail("unavailable", "access control is unavailable right now; try again shortly");
  }
  if (!res.ok && !(method === "DELETE" && res.status === 404)) {
    console.error("the sidecar refused a repository change", res.status, await res.text());
    return fail("unavailable", "the account layer refused to record this repository; try again shortly");
  }
  await res.body?.cancel();
}

/** The repository's root on the platform host, as the request reached it. */
function platformBase(requestUrl: string, id: string): string {
  const url = new URL(requestUrl);
  return `${url.protocol}//${url.host}/${id}`;
}
