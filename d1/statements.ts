/**
 * Every D1 statement (DESIGN.md §4): the edge's table of repositories (id, uid, visibility, the
 * active release pointer) and their hostnames (schema/d1/). The Worker reads them on every
 * request and changes them from the admin API; a repository's Durable Object writes its own
 * active release pointer. Bound parameters only; rows come back as plain camelCase data. The
 * webhook tables' statements are beside this file, in d1/webhooks.ts.
 */
import { deleteRepositoryWebhooks } from "./webhooks.ts";

/** A repository as D1 holds it. `uid` is null for a repository created before uids. */
export interface RepositoryRecord {
  id: string;
  uid: string | null;
  visibility: "public" | "private";
  activeRelease: string | null;
}

/** One row of the admin listing: a repository and its hostnames, sorted. */
export interface RepositoryListing {
  id: string;
  visibility: string;
  activeRelease: string | null;
  createdAt: string;
  hostnames: string[];
}

export async function repositoryRecord(db: D1Database, id: string): Promise<RepositoryRecord | null> {
  const r = await db
    .prepare("SELECT id, uid, visibility, active_release FROM repositories WHERE id = ?")
    .bind(id)
    .first();
  if (r === null) return null;
  return {
    id: String(r.id),
    uid: typeof r.uid === "string" ? r.uid : null,
    visibility: r.visibility === "private" ? "private" : "public",
    activeRelease: typeof r.active_release === "string" ? r.active_release : null,
  };
}

export async function repositoryExists(db: D1Database, id: string): Promise<boolean> {
  return (await db.prepare("SELECT 1 FROM repositories WHERE id = ?").bind(id).first()) !== null;
}

/** Every repository with its hostnames, by id. */
export async function listRepositories(db: D1Database): Promise<RepositoryListing[]> {
  const rows = await db
    .prepare(
      `SELECT r.id, r.visibility, r.active_release, r.created_at, group_concat(h.hostname, ' ') AS hostnames
       FROM repositories r LEFT JOIN hostnames h ON h.repository_id = r.id GROUP BY r.id ORDER BY r.id`,
    )
    .all<{
      id: string;
      visibility: string;
      active_release: string | null;
      created_at: string;
      hostnames: string | null;
    }>();
  return rows.results.map((r) => ({
    id: r.id,
    visibility: r.visibility,
    activeRelease: r.active_release,
    createdAt: r.created_at,
    hostnames: r.hostnames === null ? [] : r.hostnames.split(" ").sort(),
  }));
}

/**
 * Create a repository's row and its hostnames' in one batch. D1's unique keys (repository id,
 * hostname) decide between simultaneous creates: a refused batch throws and has written nothing.
 */
export async function insertRepository(
  db: D1Database,
  r: { id: string; uid: string; visibility: string; createdAt: string; hostnames: readonly string[] },
): Promise<void> {
  await db.batch([
    db
      .prepare("INSERT INTO repositories (id, uid, visibility, active_release, created_at) VALUES (?, ?, ?, NULL, ?)")
      .bind(r.id, r.uid, r.visibility, r.createdAt),
    ...r.hostnames.map((h) =>
      db.prepare("INSERT INTO hostnames (hostname, repository_id) VALUES (?, ?)").bind(h, r.id),
    ),
  ]);
}

/** Remove a repository's row and its hostnames': the edge stops routing to it. */
export async function deleteRepository(db: D1Database, id: string): Promise<void> {
  await db.batch([
    // Its webhooks and their delivery history go with its row: none fires for a successor (they
    // are keyed by uid too), and none is left behind.
    ...deleteRepositoryWebhooks(db, id),
    db.prepare("DELETE FROM hostnames WHERE repository_id = ?").bind(id),
    db.prepare("DELETE FROM repositories WHERE id = ?").bind(id),
  ]);
}

/**
 * Point the edge at a repository's active release: only the row of this lifetime (`uid`), so a
 * late write by a deleted repository's object never moves its successor's pointer. Returns
 * whether the row was there.
 */
export async function setActiveRelease(
  db: D1Database,
  repository: { id: string; uid: string | null },
  release: string | null,
): Promise<boolean> {
  const result = await db
    .prepare("UPDATE repositories SET active_release = ? WHERE id = ? AND uid IS ?")
    .bind(release, repository.id, repository.uid)
    .run();
  return result.meta.changes > 0;
}

/** The repository a hostname serves, or null for a hostname nobody configured. */
export async function hostnameOwner(db: D1Database, hostname: string): Promise<string | null> {
  const r = await db.prepare("SELECT repository_id FROM hostnames WHERE hostname = ?").bind(hostname).first();
  return r === null ? null : String(r.repository_id);
}

/** The hostnames a repository is served at, sorted. */
export async function hostnamesOf(db: D1Database, id: string): Promise<string[]> {
  const hosts = await db
    .prepare("SELECT hostname FROM hostnames WHERE repository_id = ? ORDER BY hostname")
    .bind(id)
    .all<{ hostname: string }>();
  return hosts.results.map((h) => h.hostname);
}

/** Serve a repository at a hostname too (a no-op when it already is). */
export async function addHostname(db: D1Database, hostname: string, id: string): Promise<void> {
  await db.prepare("INSERT OR IGNORE INTO hostnames (hostname, repository_id) VALUES (?, ?)").bind(hostname, id).run();
}

/** Stop serving a repository at a hostname; false when it did not serve it there. */
export async function removeHostname(db: D1Database, hostname: string, id: string): Promise<boolean> {
  const result = await db
    .prepare("DELETE FROM hostnames WHERE hostname = ? AND repository_id = ?")
    .bind(hostname, id)
    .run();
  return result.meta.changes > 0;
}
