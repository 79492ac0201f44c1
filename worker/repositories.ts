/**
 * The edge's view of repositories, read from D1 on every request (DESIGN.md §4): which repository
 * a hostname serves, its visibility and its active release. Answers are kept in isolate memory
 * for a few seconds so a busy hostname does not cost a D1 query per request; this isolate drops
 * its entry when it changes the row, and other isolates converge within the TTL.
 */
import { hostnameOwner, repositoryRecord } from "../d1/statements.ts";
import { repositoryScope } from "../r2/blobs.ts";

export interface RepositoryRow {
  id: string;
  /** This lifetime of the repository (r2/blobs.ts): what its object, blobs and cache entries are named by. */
  scope: string;
  visibility: "public" | "private";
  activeRelease: string | null;
}

const TTL_MS = 10_000;
const byHost = new Map<string, { at: number; id: string | null }>();
const byId = new Map<string, { at: number; row: RepositoryRow | null }>();

function fresh(at: number): boolean {
  return Date.now() - at < TTL_MS;
}

/** The repository a configured hostname serves, or null for a hostname nobody configured. */
export async function repositoryForHost(db: D1Database, hostname: string): Promise<RepositoryRow | null> {
  const host = hostname.toLowerCase();
  const cached = byHost.get(host);
  let id: string | null;
  if (cached && fresh(cached.at)) id = cached.id;
  else {
    id = await hostnameOwner(db, host);
    byHost.set(host, { at: Date.now(), id });
  }
  return id === null ? null : repositoryById(db, id);
}

export async function repositoryById(db: D1Database, id: string): Promise<RepositoryRow | null> {
  const cached = byId.get(id);
  if (cached && fresh(cached.at)) return cached.row;
  const r = await repositoryRecord(db, id);
  const row =
    r === null
      ? null
      : { id: r.id, scope: repositoryScope(r.id, r.uid), visibility: r.visibility, activeRelease: r.activeRelease };
  byId.set(id, { at: Date.now(), row });
  return row;
}

/** Forget what this isolate knows about a repository after changing it (activation, settings, hostnames). */
export function forgetRepository(id: string): void {
  byId.delete(id);
  for (const [host, entry] of byHost) if (entry.id === id) byHost.delete(host);
}

export function forgetHostname(hostname: string): void {
  byHost.delete(hostname.toLowerCase());
}
