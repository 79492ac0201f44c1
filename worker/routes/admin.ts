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
import {
  addHostname,
  deleteRepository,
  hostnameOwner,
  hostnamesOf,
  insertRepository,
  listRepositories,
  removeHostname,
  repositoryExists,
} from "../../d1/statements.ts";
import { newRepositoryUid, repositoryScope } from "../../r2/blobs.ts";
import { CreateRepositorySchema, GcSchema, HostnameSchema } from "../../schema/api.ts";
import type {
  CreatedRepository,
  DeletedRepository,
  HostnameAdded,
  RepositoryList,
  RepositoryRowAnswer,
} from "../../schema/responses.ts";
import { bearerOf } from "../access.ts";
import type { ApiEnv } from "../context.ts";
import { fail, jsonBody, parseWith, unwrap } from "../errors.ts";
import { loadRepository } from "../middleware/repository.ts";
import { requires } from "../middleware/requires.ts";
import { forgetHostname, forgetRepository } from "../repositories.ts";
import { sidecarConfig, sidecarFetch } from "../sidecar.ts";
import { repositoryStub } from "../stub.ts";

export const adminRoutes = new Hono<ApiEnv>();

adminRoutes.post("/repositories", requires("admin", "platform"), async (c) => {
  const input = await jsonBody(c, CreateRepositorySchema);
  if (await repositoryExists(c.env.DB, input.id)) {
    return fail("repository_exists", `repository ${input.id} already exists`);
  }
  for (const host of input.hostnames) {
    if ((await hostnameOwner(c.env.DB, host)) !== null) {
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
    await insertRepository(c.env.DB, {
      id: input.id,
      uid,
      visibility: input.visibility,
      createdAt: now,
      hostnames: input.hostnames,
    });
  } catch (cause) {
    console.error("creating a repository row failed", cause);
    return fail("repository_exists", `repository ${input.id} or one of its hostnames already exists`);
  }
  try {
    // The account layer learns of the repository (its creator becomes its admin), then its object.
    await registerWithSidecar(c, "POST", "/v1/repositories", JSON.stringify({ id: input.id }));
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
    await deleteRepository(c.env.DB, input.id);
    forgetRepository(input.id);
    throw cause;
  }
  forgetRepository(input.id);
  return c.json({ ...input, base_url: baseUrl } satisfies CreatedRepository, 201);
});

adminRoutes.get("/repositories", requires("admin", "platform"), async (c) => {
  const rows = await listRepositories(c.env.DB);
  return c.json({
    repositories: rows.map((r) => ({
      id: r.id,
      visibility: r.visibility,
      active_release: r.activeRelease,
      created_at: r.createdAt,
      hostnames: r.hostnames,
    })),
  } satisfies RepositoryList);
});

adminRoutes.delete("/repositories/:owner/:name", loadRepository, requires("admin"), async (c) => {
  const repo = c.get("repository");
  const id = repo.id;
  await registerWithSidecar(c, "DELETE", `/v1/repositories/${id}`, "");
  await deleteRepository(c.env.DB, id);
  forgetRepository(id);
  // Its successor under this id gets a new uid, so a new object, new R2 keys and new cache keys:
  // whatever this destroy fails to remove is unreachable from it.
  const result = unwrap(await repositoryStub(c.env, repo.scope).destroy());
  // 202 when R2 failed part way: the repository is gone from the edge, and its object's alarm
  // removes the rest of its files.
  return c.json({ deleted: id, ...result } satisfies DeletedRepository, result.finished ? 200 : 202);
});

// Hono's trailing /* also matches the bare /repositories/:owner/:name (but not its DELETE above,
// which answers first).
adminRoutes.use("/repositories/:owner/:name/*", loadRepository, requires("admin"));

adminRoutes.get("/repositories/:owner/:name", async (c) => {
  const repo = c.get("repository");
  return c.json({
    id: repo.id,
    visibility: repo.visibility,
    active_release: repo.activeRelease,
    hostnames: await hostnamesOf(c.env.DB, repo.id),
  } satisfies RepositoryRowAnswer);
});

adminRoutes.put("/repositories/:owner/:name/hostnames/:host", async (c) => {
  const repo = c.get("repository");
  const host = parseWith(HostnameSchema, c.req.param("host"), "hostname");
  const owner = await hostnameOwner(c.env.DB, host);
  if (owner !== null && owner !== repo.id) {
    return fail("hostname_taken", `hostname ${host} already serves another repository`);
  }
  await addHostname(c.env.DB, host, repo.id);
  forgetHostname(host);
  return c.json({ hostname: host, repository: repo.id } satisfies HostnameAdded);
});

adminRoutes.delete("/repositories/:owner/:name/hostnames/:host", async (c) => {
  const repo = c.get("repository");
  const host = parseWith(HostnameSchema, c.req.param("host"), "hostname");
  if (!(await removeHostname(c.env.DB, host, repo.id)))
    return fail("not_found", `hostname ${host} does not serve ${repo.id}`);
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
async function registerWithSidecar(c: Context<ApiEnv>, method: string, path: string, body: string): Promise<void> {
  const principal = c.get("principal");
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
