/**
 * One pool path, one content (DESIGN.md §5, the Debian repository format's pool): apt fetches a
 * package by its Filename alone, so no path may stand for two contents where apt could meet
 * both. What a pool file name and a pool path may be bound to, checked at upload (registerPackage,
 * the batch) and when packages are added to a dist; each returns the refusal, or null.
 */
import { debFileName } from "../../deb/pool.ts";
import { type ApiError, apiError } from "../../schema/errors.ts";
import type { ReleaseRecord } from "./releases.ts";
import type { MemberRecord, Segments } from "./segments.ts";
import type { Settings } from "./settings.ts";

/**
 * A pool file name (`name_version-without-epoch_arch.deb`, deb/pool.ts) belongs to the first
 * version bound to it: versions that differ only in their epoch ("1:1.0" and "2:1.0") would share
 * it, and apt, which fetches a package by its Filename alone, would get one for the other's
 * hashes (a hash sum mismatch). Debian's archive tools refuse a file already in the pool with
 * other contents for the same reason.
 */
export function filenameClash(
  bound: readonly { name: string; version: string; architecture: string }[],
  name: string,
  version: string,
  architecture: string,
): ApiError | null {
  const filename = debFileName({ package: name, version, architecture });
  const other = bound.find(
    (b) =>
      b.version !== version &&
      debFileName({ package: b.name, version: b.version, architecture: b.architecture }) === filename,
  );
  if (other === undefined) return null;
  return apiError(
    "filename_exists",
    `${name} ${version} (${architecture}) would be stored as ${filename}, the pool file of ${name} ${other.version}: pool file names leave the epoch out, so apt could not tell them apart. Bump the upstream version or the Debian revision instead`,
    { name, version, architecture, other_version: other.version, filename },
  );
}

/** Refuse a member whose pool path `other` (other content, `where`) already has. */
export function poolPathTaken(
  m: MemberRecord,
  other: { name: string; version: string; architecture: string; sha256: string },
  where: string,
): ApiError {
  const same = other.name === m.name && other.version === m.version && other.architecture === m.architecture;
  const what = same ? "another content of the same version" : `${other.name} ${other.version} (${other.architecture})`;
  return apiError(
    "filename_exists",
    `${m.name} ${m.version} (${m.architecture}) would be listed at ${m.poolPath}, which already holds ${what} ${where}: apt fetches a package by that path alone and would get the wrong file${same ? "; remove the old content from that dist first" : ""}`,
    {
      name: m.name,
      version: m.version,
      architecture: m.architecture,
      sha256: m.sha256,
      pool_path: m.poolPath,
      other_version: other.version,
      other_sha256: other.sha256,
    },
  );
}

/**
 * Whether a member's pool path already holds other content, where that would make apt fetch
 * one package for another's hashes. apt looks a package up by its Filename alone, in the pool
 * every dist shares (Debian repository format), and the edge serves a pool path from any
 * retained release (DESIGN.md §5). Without version reuse a path is served as immutable, so it
 * must hold one content in every release, forever: one listed by any release refuses another.
 * `registerPackage` already keeps a pool file name to one version, so this only finds packages
 * uploaded before it did. With version reuse, a path's content may change between releases
 * (the served release's own member is preferred, serving.ts poolFile), but within one release
 * it is one content in every dist: a reused version replaces its member in the dist it is
 * added to, and is refused while another dist of the release still lists the old content.
 */
export function poolPathsTaken(
  q: Pick<Segments, "releaseMembersAt" | "poolPathContents" | "listingOf">,
  s: Settings,
  base: ReleaseRecord | null,
  members: readonly MemberRecord[],
): ApiError | null {
  const wanted = new Map(members.map((m) => [m.poolPath, m]));
  const paths = [...wanted.keys()];
  if (s.mayReuseVersions) {
    if (base === null) return null;
    for (const listed of q.releaseMembersAt(base.id, paths)) {
      const m = wanted.get(listed.poolPath);
      if (m === undefined || listed.sha256 === m.sha256) continue;
      const replaced =
        listed.dist === m.dist &&
        listed.name === m.name &&
        listed.version === m.version &&
        listed.architecture === m.architecture;
      if (!replaced) return poolPathTaken(m, listed, `in dist ${listed.dist} of release ${base.id}`);
    }
    return null;
  }
  for (const listed of q.poolPathContents(paths)) {
    const m = wanted.get(listed.poolPath);
    if (m === undefined || listed.sha256 === m.sha256) continue;
    const where = q.listingOf(listed.poolPath, listed.sha256);
    return poolPathTaken(
      m,
      listed,
      where === null ? "in an earlier release" : `in dist ${where.dist} of release ${where.release}`,
    );
  }
  return null;
}
