/**
 * Every SQL statement of RepositoryObject, with bound parameters (STYLE.md). Rows are mapped to
 * camelCase plain data here so the object never touches column names. Multi-statement invariants
 * are the caller's `transactionSync`.
 */
import type { ControlField } from "../../deb/control.ts";
import { joinStanza, renderStanzaParts } from "../../deb/packages.ts";
import { repositoryScope } from "../../r2/blobs.ts";
import type { Stats } from "../../schema/responses.ts";

export type ReleaseState = "open" | "active" | "retired";

export interface Settings {
  id: string;
  /** The repository's creation id (D1 repositories.uid); null for one created before uids. */
  uid: string | null;
  /** What this lifetime's blobs are named by: `repositoryScope(id, uid)`. */
  scope: string;
  mayReuseVersions: boolean;
  retentionSeconds: number;
  baseUrl: string;
  origin: string;
  label: string;
  createdAt: number;
}

export interface PackageRecord {
  sha256: string;
  name: string;
  version: string;
  architecture: string;
  source: string;
  fields: ControlField[];
  size: number;
  md5: string;
  sha1: string;
  sha512: string;
  uploadedAt: number;
  /** The pack a batch upload stored this package in, and where its bytes start; null: its own blob. */
  packed: { pack: string; offset: number } | null;
}

/** A blob some row needs: its address, its size (for a pack, the least it must have) and what it is. */
export interface BlobPointer {
  sha256: string;
  size: number;
  kind: "package" | "pack" | "index" | "release";
}

/** A package as read back: its control text stays in the table (only index generation reads it). */
export type StoredPackage = Omit<PackageRecord, "fields">;

export interface ReleaseRecord {
  id: string;
  seq: number;
  state: ReleaseState;
  parent: string | null;
  generation: number;
  createdAt: number;
  activatedAt: number | null;
  retiredAt: number | null;
}

export interface MemberRecord {
  dist: string;
  component: string;
  name: string;
  version: string;
  architecture: string;
  sha256: string;
  poolPath: string;
}

export interface DistRecord {
  dist: string;
  changed: boolean;
  releaseText: string | null;
  generatedGeneration: number | null;
  generatedAt: number | null;
  release: StoredFile | null;
  inRelease: StoredFile | null;
  releaseGpg: StoredFile | null;
  signedBy: string | null;
  signedAt: number | null;
}

export interface StoredFile {
  sha256: string;
  size: number;
}

export interface IndexFileRecord {
  path: string;
  component: string;
  architecture: string;
  size: number;
  md5: string;
  sha256: string;
  sha512: string;
  generatedAt: number;
  /** See migration 2: 'blob' at `sha256`, 'chunks' (the index's chunks in key order), 'listed' (md5 and sha512 are then ""). */
  storage: "blob" | "chunks" | "listed";
  /** The release the row belongs to, when read back (by-hash looks across releases). */
  release?: string;
}

export interface ScopeRecord {
  component: string;
  architecture: string;
  dirty: boolean;
}

/** A member's position in its index: Packages files list stanzas in (name, version, architecture) order. */
export type IndexKey = readonly [name: string, version: string, architecture: string];

/** The key the first chunk of every index starts at: below every real key. */
export const FIRST_KEY: IndexKey = ["", "", ""];

/** One key range of an index, stored as its own gzip member (migration 2). */
export interface ChunkRecord {
  start: IndexKey;
  stanzas: number;
  plainSize: number;
  gzipSha256: string;
  gzipSize: number;
  /** Bumped by every change in the chunk's range; 0 when clean. A counter, so that generation can tell a change that landed while it ran. */
  dirty: number;
}

/** One stanza of an index as generation reads it: its key and its text (ending in "\n"). */
export interface IndexRow {
  key: IndexKey;
  stanza: string;
}

/** One segment of a release's membership of a dist and component (migration 3). */
export interface SegmentRef {
  start: IndexKey;
  segment: number;
  /** Created by this release, which may change it in place; otherwise shared and copied before a change. */
  owned: boolean;
}

export interface KeyRecord {
  fingerprint: string;
  /** The public key with every signature it was given, revocations included (pgp/keys.ts). */
  armored: string;
  userIds: string[];
  algorithm: string;
  createdAt: string;
  expiresAt: string | null;
  addedAt: number;
  /** When the repository learned of the key's revocation (migration 8); null while it is trusted. */
  revokedAt: number | null;
  revocationReason: string | null;
}

type Row = Record<string, SqlStorageValue>;

const str = (v: SqlStorageValue | undefined): string => {
  if (typeof v !== "string") throw new Error(`expected a text column, got ${typeof v}`);
  return v;
};
const num = (v: SqlStorageValue | undefined): number => {
  if (typeof v !== "number") throw new Error(`expected a number column, got ${typeof v}`);
  return v;
};
const optStr = (v: SqlStorageValue | undefined): string | null => (v === null || v === undefined ? null : str(v));
const optNum = (v: SqlStorageValue | undefined): number | null => (v === null || v === undefined ? null : num(v));

/**
 * Membership of release ?1 that release ?2 lacks, bound as (a, b, b, a). Segments both releases
 * reference hold the same rows for both, so only the segments each has alone are compared.
 */
const ONLY_IN = `SELECT dist, component, name, version, architecture, sha256, pool_path FROM release_members
  WHERE release_id = ? AND segment NOT IN (SELECT segment FROM member_segments WHERE release_id = ?)
  EXCEPT SELECT dist, component, name, version, architecture, sha256, pool_path FROM release_members
  WHERE release_id = ? AND segment NOT IN (SELECT segment FROM member_segments WHERE release_id = ?)`;

/** The retention predicate on `releases r`: served now, or retired less than `retention` ago. */
const RETAINED = "(r.state = 'active' OR (r.state = 'retired' AND r.retired_at > ?))";

export class Queries {
  readonly #sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
  }

  #all(query: string, ...params: SqlStorageValue[]): Row[] {
    return this.#sql.exec(query, ...params).toArray();
  }

  /** Rows as arrays, in the order the query selects them: for hot queries of many rows. */
  #raw(query: string, ...params: SqlStorageValue[]): SqlStorageValue[][] {
    return [...this.#sql.exec(query, ...params).raw()];
  }

  #first(query: string, ...params: SqlStorageValue[]): Row | null {
    return this.#sql.exec(query, ...params).toArray()[0] ?? null;
  }

  #run(query: string, ...params: SqlStorageValue[]): number {
    return this.#sql.exec(query, ...params).rowsWritten;
  }

  // settings

  settings(): Settings | null {
    const r = this.#first("SELECT * FROM repository WHERE singleton = 1");
    if (r === null) return null;
    const uid = typeof r.uid === "string" ? r.uid : null;
    return {
      id: str(r.id),
      uid,
      scope: repositoryScope(str(r.id), uid),
      mayReuseVersions: num(r.may_reuse_versions) === 1,
      retentionSeconds: num(r.retention_seconds),
      baseUrl: str(r.base_url),
      origin: str(r.origin),
      label: str(r.label),
      createdAt: num(r.created_at),
    };
  }

  saveSettings(s: Omit<Settings, "scope">): void {
    this.#run(
      `INSERT INTO repository (singleton, id, uid, may_reuse_versions, retention_seconds, base_url, origin, label, created_at)
       VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (singleton) DO UPDATE SET may_reuse_versions = excluded.may_reuse_versions,
         retention_seconds = excluded.retention_seconds, base_url = excluded.base_url,
         origin = excluded.origin, label = excluded.label`,
      s.id,
      s.uid,
      s.mayReuseVersions ? 1 : 0,
      s.retentionSeconds,
      s.baseUrl,
      s.origin,
      s.label,
      s.createdAt,
    );
  }

  // packages and version bindings

  package(sha256: string): StoredPackage | null {
    const r = this.#first(`SELECT ${STORED_COLUMNS} FROM packages WHERE sha256 = ?`, sha256);
    return r === null ? null : toPackage(r);
  }

  /**
   * The identity and size of those of these packages the repository holds: what a batch upload
   * needs to know, without reading and parsing each one's control fields.
   */
  packageHeads(
    sha256s: readonly string[],
  ): Map<string, Omit<PackageRecord, "source" | "fields" | "md5" | "sha1" | "sha512" | "uploadedAt" | "packed">> {
    return new Map([...this.packageKeys(sha256s)].map(([sha256, { source: _, ...head }]) => [sha256, head]));
  }

  /** What adding these packages to a dist needs of each: identity, source (for the pool path) and size. */
  packageKeys(
    sha256s: readonly string[],
  ): Map<string, Pick<PackageRecord, "sha256" | "name" | "version" | "architecture" | "source" | "size">> {
    const rows = this.#allIn(
      (marks) => `SELECT sha256, name, version, architecture, source, size FROM packages WHERE sha256 IN (${marks})`,
      sha256s,
    );
    return new Map(
      rows.map((r) => [
        str(r.sha256),
        {
          sha256: str(r.sha256),
          name: str(r.name),
          version: str(r.version),
          architecture: str(r.architecture),
          source: str(r.source),
          size: num(r.size),
        },
      ]),
    );
  }

  /** The members of a dist and component with these names, as "name version architecture" → sha256. */
  membersNamed(release: string, dist: string, component: string, names: readonly string[]): Map<string, string> {
    const rows = this.#allIn(
      (marks) =>
        `SELECT name, version, architecture, sha256 FROM release_members
         WHERE release_id = ? AND dist = ? AND component = ? AND name IN (${marks})`,
      names,
      release,
      dist,
      component,
    );
    return new Map(rows.map((r) => [`${str(r.name)} ${str(r.version)} ${str(r.architecture)}`, str(r.sha256)]));
  }

  /**
   * What any release lists at these pool paths: one row per path and content (rows shared by
   * releases are read once, from the segments, not once per release referencing them).
   */
  poolPathContents(
    paths: readonly string[],
  ): { poolPath: string; sha256: string; name: string; version: string; architecture: string }[] {
    return this.#allIn(
      (marks) =>
        `SELECT DISTINCT pool_path, sha256, name, version, architecture FROM segment_members WHERE pool_path IN (${marks})`,
      paths,
    ).map((r) => ({
      poolPath: str(r.pool_path),
      sha256: str(r.sha256),
      name: str(r.name),
      version: str(r.version),
      architecture: str(r.architecture),
    }));
  }

  /** The members of one release at these pool paths, in any dist. */
  releaseMembersAt(release: string, paths: readonly string[]): MemberRecord[] {
    return this.#allIn(
      (marks) => `SELECT * FROM release_members WHERE release_id = ? AND pool_path IN (${marks})`,
      paths,
      release,
    ).map(toMember);
  }

  /** The newest release (and dist) listing this content at this pool path, for a message. */
  listingOf(path: string, sha256: string): { release: string; dist: string } | null {
    const r = this.#first(
      `SELECT m.release_id, m.dist FROM release_members m JOIN releases r ON r.id = m.release_id
       WHERE m.pool_path = ? AND m.sha256 = ? ORDER BY r.seq DESC LIMIT 1`,
      path,
      sha256,
    );
    return r === null ? null : { release: str(r.release_id), dist: str(r.dist) };
  }

  /** Every version binding of these package names: a batch upload checks all of its own at once. */
  bindingsOf(names: readonly string[]): { name: string; version: string; architecture: string; sha256: string }[] {
    const rows = this.#allIn(
      (marks) => `SELECT name, version, architecture, sha256 FROM versions WHERE name IN (${marks})`,
      names,
    );
    return rows.map((r) => ({
      name: str(r.name),
      version: str(r.version),
      architecture: str(r.architecture),
      sha256: str(r.sha256),
    }));
  }

  /**
   * `SELECT … IN (…)` over many values in as few statements as the Durable Object's limit of 100
   * bound parameters allows: each statement has a fixed cost that one query per value would pay
   * a thousand times over for a batch.
   */
  #allIn(query: (marks: string) => string, values: readonly string[], ...before: SqlStorageValue[]): Row[] {
    const rows: Row[] = [];
    const per = 100 - before.length;
    for (let i = 0; i < values.length; i += per) {
      const chunk = values.slice(i, i + per);
      rows.push(...this.#all(query(chunk.map(() => "?").join(", ")), ...before, ...chunk));
    }
    return rows;
  }

  insertPackage(p: PackageRecord): void {
    const parts = renderStanzaParts(p);
    this.#run(
      `INSERT INTO packages (sha256, name, version, architecture, source, fields, size, md5, sha1, sha512, uploaded_at,
         stanza_head, stanza_tail, pack, pack_offset)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (sha256) DO NOTHING`,
      p.sha256,
      p.name,
      p.version,
      p.architecture,
      p.source,
      // Left empty: the stanza columns hold the control fields, rendered (migration 6).
      "",
      p.size,
      p.md5,
      p.sha1,
      p.sha512,
      p.uploadedAt,
      parts.head,
      parts.tail,
      p.packed?.pack ?? null,
      p.packed?.offset ?? null,
    );
  }

  boundContent(name: string, version: string, architecture: string): string | null {
    const r = this.#first(
      "SELECT sha256 FROM versions WHERE name = ? AND version = ? AND architecture = ?",
      name,
      version,
      architecture,
    );
    return r === null ? null : str(r.sha256);
  }

  bindVersion(name: string, version: string, architecture: string, sha256: string, at: number): void {
    this.#run(
      `INSERT INTO versions (name, version, architecture, sha256, bound_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (name, version, architecture) DO UPDATE SET sha256 = excluded.sha256, bound_at = excluded.bound_at`,
      name,
      version,
      architecture,
      sha256,
      at,
    );
  }

  // releases

  release(id: string): ReleaseRecord | null {
    const r = this.#first("SELECT * FROM releases WHERE id = ?", id);
    return r === null ? null : toRelease(r);
  }

  releaseInState(state: "open" | "active"): ReleaseRecord | null {
    const r = this.#first("SELECT * FROM releases WHERE state = ?", state);
    return r === null ? null : toRelease(r);
  }

  releases(limit: number): ReleaseRecord[] {
    return this.#all("SELECT * FROM releases ORDER BY seq DESC LIMIT ?", limit).map(toRelease);
  }

  nextReleaseSeq(): number {
    return num(this.#first("SELECT coalesce(max(seq), 0) + 1 AS next FROM releases")?.next);
  }

  insertOpenRelease(id: string, seq: number, parent: string | null, at: number): void {
    this.#run(
      "INSERT INTO releases (id, seq, state, parent, generation, created_at) VALUES (?, ?, 'open', ?, 0, ?)",
      id,
      seq,
      parent,
      at,
    );
  }

  /**
   * Copy-on-write: the child starts with the parent's dists and indexes and shares its membership
   * segments (their rows are copied one segment at a time, on the child's first change to each);
   * blobs are shared, never copied.
   */
  copyReleaseContents(from: string, to: string): void {
    this.#run(
      `INSERT INTO member_segments (release_id, dist, component, start_name, start_version, start_architecture,
         segment, owned)
       SELECT ?, dist, component, start_name, start_version, start_architecture, segment, 0 FROM member_segments
       WHERE release_id = ?`,
      to,
      from,
    );
    this.#run(
      `INSERT INTO dists (release_id, dist, changed, release_text, generated_generation, generated_at,
         release_sha256, release_size, inrelease_sha256, inrelease_size, release_gpg_sha256, release_gpg_size,
         signed_by, signed_at)
       SELECT ?, dist, 0, release_text, NULL, generated_at, release_sha256, release_size, inrelease_sha256,
         inrelease_size, release_gpg_sha256, release_gpg_size, signed_by, signed_at FROM dists WHERE release_id = ?`,
      to,
      from,
    );
    this.#run(
      `INSERT INTO indexes (release_id, dist, component, architecture, dirty)
       SELECT ?, dist, component, architecture, dirty FROM indexes WHERE release_id = ?`,
      to,
      from,
    );
    this.#run(
      `INSERT INTO index_files (release_id, dist, path, component, architecture, size, md5, sha256, sha512, generated_at,
         storage)
       SELECT ?, dist, path, component, architecture, size, md5, sha256, sha512, generated_at, storage
       FROM index_files WHERE release_id = ?`,
      to,
      from,
    );
    this.#run(
      `INSERT INTO index_chunks (release_id, dist, component, architecture, start_name, start_version,
         start_architecture, stanzas, plain_size, gzip_sha256, gzip_size, dirty)
       SELECT ?, dist, component, architecture, start_name, start_version, start_architecture, stanzas, plain_size,
         gzip_sha256, gzip_size, dirty FROM index_chunks WHERE release_id = ?`,
      to,
      from,
    );
  }

  bumpGeneration(id: string): number {
    return num(
      this.#first("UPDATE releases SET generation = generation + 1 WHERE id = ? RETURNING generation", id)?.generation,
    );
  }

  /** Flip states for an activation: the current active release (if any) retires. */
  switchActive(id: string, at: number): void {
    this.#run("UPDATE releases SET state = 'retired', retired_at = ? WHERE state = 'active'", at);
    this.#run("UPDATE releases SET state = 'active', activated_at = ?, retired_at = NULL WHERE id = ?", at, id);
  }

  // membership: segments (migration 3)

  /** The segments of a release's dist and component, in key order. */
  segments(release: string, dist: string, component: string): SegmentRef[] {
    return this.#all(
      `SELECT start_name, start_version, start_architecture, segment, owned FROM member_segments
       WHERE release_id = ? AND dist = ? AND component = ? ORDER BY start_name, start_version, start_architecture`,
      release,
      dist,
      component,
    ).map((r) => ({
      start: [str(r.start_name), str(r.start_version), str(r.start_architecture)] as const,
      segment: num(r.segment),
      owned: num(r.owned) === 1,
    }));
  }

  /** An unused segment number: above every referenced one and every one holding rows. */
  newSegmentId(): number {
    return num(
      this.#first(
        `SELECT max(coalesce((SELECT max(segment) FROM member_segments), 0),
           coalesce((SELECT max(segment) FROM segment_members), 0)) + 1 AS id`,
      )?.id,
    );
  }

  /** Give a release a segment of its own starting at `start`. */
  addSegment(release: string, dist: string, component: string, start: IndexKey, segment: number): void {
    this.#run(
      `INSERT INTO member_segments (release_id, dist, component, start_name, start_version, start_architecture,
         segment, owned) VALUES (?, ?, ?, ?, ?, ?, ?, 1)`,
      release,
      dist,
      component,
      ...start,
      segment,
    );
  }

  dropSegment(release: string, dist: string, component: string, start: IndexKey): void {
    this.#run(
      `DELETE FROM member_segments WHERE release_id = ? AND dist = ? AND component = ? AND start_name = ?
       AND start_version = ? AND start_architecture = ?`,
      release,
      dist,
      component,
      ...start,
    );
  }

  /** Copy a shared segment's rows into a new segment the release owns, in its place; returns the copy. */
  copySegment(release: string, dist: string, component: string, ref: SegmentRef): number {
    const copy = this.newSegmentId();
    this.#run(
      `INSERT INTO segment_members (segment, name, version, architecture, sha256, pool_path, stanza)
       SELECT ?, name, version, architecture, sha256, pool_path, stanza FROM segment_members WHERE segment = ?`,
      copy,
      ref.segment,
    );
    this.#run(
      `UPDATE member_segments SET segment = ?, owned = 1 WHERE release_id = ? AND dist = ? AND component = ?
       AND start_name = ? AND start_version = ? AND start_architecture = ?`,
      copy,
      release,
      dist,
      component,
      ...ref.start,
    );
    return copy;
  }

  /** Add or repoint a member, its stanza rendered from its package's (migration 7). */
  putSegmentMember(segment: number, m: MemberRecord): void {
    this.#run(
      `INSERT INTO segment_members (segment, name, version, architecture, sha256, pool_path, stanza)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, (SELECT ${memberStanza("?6")} FROM packages p WHERE p.sha256 = ?5))
       ON CONFLICT (segment, name, version, architecture) DO UPDATE SET sha256 = excluded.sha256,
         pool_path = excluded.pool_path, stanza = excluded.stanza`,
      segment,
      m.name,
      m.version,
      m.architecture,
      m.sha256,
      m.poolPath,
    );
  }

  deleteSegmentMember(segment: number, key: IndexKey): void {
    this.#run(
      "DELETE FROM segment_members WHERE segment = ? AND name = ? AND version = ? AND architecture = ?",
      segment,
      ...key,
    );
  }

  segmentSize(segment: number): number {
    return num(this.#first("SELECT count(*) AS n FROM segment_members WHERE segment = ?", segment)?.n);
  }

  /** A segment's keys in order (what a split needs to cut it evenly). */
  segmentKeys(segment: number): IndexKey[] {
    return this.#all(
      "SELECT name, version, architecture FROM segment_members WHERE segment = ? ORDER BY name, version, architecture",
      segment,
    ).map((r) => [str(r.name), str(r.version), str(r.architecture)] as const);
  }

  /** Move the rows of a segment at or above `from` into another segment. */
  moveSegmentTail(segment: number, to: number, from: IndexKey): void {
    this.#run(
      "UPDATE segment_members SET segment = ? WHERE segment = ? AND (name, version, architecture) >= (?, ?, ?)",
      to,
      segment,
      ...from,
    );
  }

  /** Members matching a removal filter; `null` filter fields match anything. */
  matchingMembers(
    release: string,
    dist: string,
    f: { component: string | null; name: string; version: string | null; architecture: string | null },
  ): MemberRecord[] {
    return this.#all(
      `SELECT * FROM release_members WHERE release_id = ? AND dist = ? AND name = ?
       AND (? IS NULL OR component = ?) AND (? IS NULL OR version = ?) AND (? IS NULL OR architecture = ?)`,
      release,
      dist,
      f.name,
      f.component,
      f.component,
      f.version,
      f.version,
      f.architecture,
      f.architecture,
    ).map(toMember);
  }

  listMembers(
    release: string,
    f: { dist: string | null; component: string | null; architecture: string | null; name: string | null },
    limit: number,
  ): MemberRecord[] {
    return this.#all(
      `SELECT s.dist, s.component, m.name, m.version, m.architecture, m.sha256, m.pool_path
       FROM member_segments s JOIN segment_members m ON m.segment = s.segment
       WHERE s.release_id = ? AND (? IS NULL OR s.dist = ?) AND (? IS NULL OR s.component = ?)
         AND (? IS NULL OR m.architecture = ?) AND (? IS NULL OR m.name = ?)
       ORDER BY s.dist, s.component, s.start_name, s.start_version, s.start_architecture, m.name, m.version,
         m.architecture
       LIMIT ?`,
      release,
      f.dist,
      f.dist,
      f.component,
      f.component,
      f.architecture,
      f.architecture,
      f.name,
      f.name,
      limit,
    ).map(toMember);
  }

  /**
   * One page of an index's stanzas in key order (the scope's architecture plus `all`): keys above
   * `after` (or at least it, on the first page) and below `before` (no upper bound when null).
   */
  indexPage(
    release: string,
    dist: string,
    component: string,
    architecture: string,
    range: { after: IndexKey; inclusive: boolean; before: IndexKey | null },
    limit: number,
  ): IndexRow[] {
    // Plain row-value comparisons, one statement per shape of range, so that SQLite walks the
    // segments from the one holding `after` and each segment's primary key from the start of the
    // range: ordered by segment start, then key, the rows come out in key order with no sort (an OR
    // of bounds, or a sort, made each page cost the whole index: quadratic in its size).
    const lower = range.inclusive ? ">=" : ">";
    const upper =
      range.before === null
        ? ""
        : "AND (s.start_name, s.start_version, s.start_architecture) < (?, ?, ?) AND (m.name, m.version, m.architecture) < (?, ?, ?)";
    return this.#raw(
      // Rows come back as arrays: a full generate reads every row of the dist, and without column
      // names materializing them costs half as much. Each member carries its whole stanza
      // (migration 7), so no row is joined to its package. One that has none is looked up: its
      // package's stanza, or for a package uploaded before migration 4, which has no stored stanza,
      // its fields, rendered below. (Members written after migration 7 by code from before it, as
      // after a rollback of the Worker, have none either.)
      `SELECT m.name, m.version, m.architecture,
         coalesce(m.stanza, (SELECT ${memberStanza("m.pool_path")} FROM packages p WHERE p.sha256 = m.sha256)),
         iif(m.stanza IS NULL,
           (SELECT iif(p.stanza_head IS NULL, json_array(p.fields, p.size, p.md5, p.sha256, m.pool_path), NULL)
            FROM packages p WHERE p.sha256 = m.sha256),
           NULL)
       FROM member_segments s JOIN segment_members m ON m.segment = s.segment
       WHERE s.release_id = ? AND s.dist = ? AND s.component = ?
         AND (s.start_name, s.start_version, s.start_architecture) >= (
           SELECT start_name, start_version, start_architecture FROM member_segments
           WHERE release_id = ? AND dist = ? AND component = ?
             AND (start_name, start_version, start_architecture) <= (?, ?, ?)
           ORDER BY start_name DESC, start_version DESC, start_architecture DESC LIMIT 1)
         AND m.architecture IN (?, 'all') AND (m.name, m.version, m.architecture) ${lower} (?, ?, ?) ${upper}
       ORDER BY s.start_name, s.start_version, s.start_architecture, m.name, m.version, m.architecture LIMIT ?`,
      release,
      dist,
      component,
      release,
      dist,
      component,
      ...range.after,
      architecture,
      ...range.after,
      ...(range.before === null ? [] : [...range.before, ...range.before]),
      limit,
    ).map(([name, version, arch, stanza, legacy]) => ({
      key: [str(name), str(version), str(arch)] as const,
      stanza: stanza === null ? legacyStanza(str(legacy)) : str(stanza),
    }));
  }

  /** Added and removed membership between two releases (a diff), at most `limit` of each. */
  membersOnlyIn(a: string, b: string, limit: number): MemberRecord[] {
    return this.#all(`${ONLY_IN} ORDER BY 1, 2, 3, 4, 5 LIMIT ?`, a, b, b, a, limit).map(toMember);
  }

  countMembersOnlyIn(a: string, b: string): number {
    return num(this.#first(`SELECT count(*) AS n FROM (${ONLY_IN})`, a, b, b, a)?.n);
  }

  memberCounts(release: string): { dist: string; component: string; architecture: string; count: number }[] {
    return this.#all(
      `SELECT dist, component, architecture, count(*) AS n FROM release_members WHERE release_id = ?
       GROUP BY dist, component, architecture ORDER BY dist, component, architecture`,
      release,
    ).map((r) => ({
      dist: str(r.dist),
      component: str(r.component),
      architecture: str(r.architecture),
      count: num(r.n),
    }));
  }

  // dists, scopes and index files

  dist(release: string, dist: string): DistRecord | null {
    const r = this.#first("SELECT * FROM dists WHERE release_id = ? AND dist = ?", release, dist);
    return r === null ? null : toDist(r);
  }

  dists(release: string): DistRecord[] {
    return this.#all("SELECT * FROM dists WHERE release_id = ? ORDER BY dist", release).map(toDist);
  }

  /** A change to a dist: it now differs from the parent, and any earlier signature no longer covers it. */
  touchDist(release: string, dist: string): void {
    this.#run(
      `INSERT INTO dists (release_id, dist, changed) VALUES (?, ?, 1)
       ON CONFLICT (release_id, dist) DO UPDATE SET changed = 1, release_text = NULL, generated_generation = NULL,
         release_sha256 = NULL, release_size = NULL, inrelease_sha256 = NULL, inrelease_size = NULL,
         release_gpg_sha256 = NULL, release_gpg_size = NULL, signed_by = NULL, signed_at = NULL`,
      release,
      dist,
    );
  }

  /** Mark indexes dirty: one architecture's, or, for `all` packages, every index of the component. */
  markScopeDirty(release: string, dist: string, component: string, architecture: string): void {
    if (architecture === "all") {
      this.#run(
        "UPDATE indexes SET dirty = 1 WHERE release_id = ? AND dist = ? AND component = ?",
        release,
        dist,
        component,
      );
      return;
    }
    this.#run(
      `INSERT INTO indexes (release_id, dist, component, architecture, dirty) VALUES (?, ?, ?, ?, 1)
       ON CONFLICT (release_id, dist, component, architecture) DO UPDATE SET dirty = 1`,
      release,
      dist,
      component,
      architecture,
    );
  }

  /** The chunk start keys of every index of a component, each index's in key order. */
  chunkStarts(release: string, dist: string, component: string): { architecture: string; start: IndexKey }[] {
    return this.#all(
      `SELECT architecture, start_name, start_version, start_architecture FROM index_chunks
       WHERE release_id = ? AND dist = ? AND component = ?
       ORDER BY architecture, start_name, start_version, start_architecture`,
      release,
      dist,
      component,
    ).map((r) => ({
      architecture: str(r.architecture),
      start: [str(r.start_name), str(r.start_version), str(r.start_architecture)] as const,
    }));
  }

  /** Count a change against one chunk (see ChunkRecord.dirty). */
  bumpChunk(release: string, dist: string, component: string, architecture: string, start: IndexKey): void {
    this.#run(
      `UPDATE index_chunks SET dirty = dirty + 1 WHERE release_id = ? AND dist = ? AND component = ?
       AND architecture = ? AND start_name = ? AND start_version = ? AND start_architecture = ?`,
      release,
      dist,
      component,
      architecture,
      ...start,
    );
  }

  markAllDirty(release: string): void {
    this.#run("UPDATE indexes SET dirty = 1 WHERE release_id = ?", release);
    this.#run("UPDATE index_chunks SET dirty = dirty + 1 WHERE release_id = ?", release);
  }

  /** The components of a dist with members (a component whose last member goes loses its segments). */
  components(release: string, dist: string): string[] {
    return this.#all(
      "SELECT DISTINCT component FROM member_segments WHERE release_id = ? AND dist = ? ORDER BY component",
      release,
      dist,
    ).map((r) => str(r.component));
  }

  /**
   * The architectures a dist's members have. Each segment's are found by seeking its index on
   * (segment, architecture) from one architecture to the next (migration 7): a few seeks per
   * segment, where a DISTINCT over the members read every row of the dist.
   */
  architectures(release: string, dist: string): string[] {
    return this.#all(
      `WITH RECURSIVE found (segment, architecture) AS (
         SELECT segment, (SELECT min(architecture) FROM segment_members m WHERE m.segment = s.segment)
         FROM member_segments s WHERE s.release_id = ? AND s.dist = ?
         UNION ALL
         SELECT segment, (SELECT min(architecture) FROM segment_members m
                          WHERE m.segment = found.segment AND m.architecture > found.architecture)
         FROM found WHERE architecture IS NOT NULL)
       SELECT DISTINCT architecture FROM found WHERE architecture IS NOT NULL ORDER BY architecture`,
      release,
      dist,
    ).map((r) => str(r.architecture));
  }

  scopes(release: string, dist: string): ScopeRecord[] {
    return this.#all(
      "SELECT component, architecture, dirty FROM indexes WHERE release_id = ? AND dist = ?",
      release,
      dist,
    ).map((r) => ({ component: str(r.component), architecture: str(r.architecture), dirty: num(r.dirty) === 1 }));
  }

  deleteScope(release: string, dist: string, component: string, architecture: string): void {
    this.#run(
      "DELETE FROM indexes WHERE release_id = ? AND dist = ? AND component = ? AND architecture = ?",
      release,
      dist,
      component,
      architecture,
    );
    this.#run(
      "DELETE FROM index_files WHERE release_id = ? AND dist = ? AND component = ? AND architecture = ?",
      release,
      dist,
      component,
      architecture,
    );
    this.#run(
      "DELETE FROM index_chunks WHERE release_id = ? AND dist = ? AND component = ? AND architecture = ?",
      release,
      dist,
      component,
      architecture,
    );
  }

  /** The chunks of one index, in key order. */
  chunks(release: string, dist: string, component: string, architecture: string): ChunkRecord[] {
    return this.#all(
      `SELECT * FROM index_chunks WHERE release_id = ? AND dist = ? AND component = ? AND architecture = ?
       ORDER BY start_name, start_version, start_architecture`,
      release,
      dist,
      component,
      architecture,
    ).map((r) => ({
      start: [str(r.start_name), str(r.start_version), str(r.start_architecture)] as const,
      stanzas: num(r.stanzas),
      plainSize: num(r.plain_size),
      gzipSha256: str(r.gzip_sha256),
      gzipSize: num(r.gzip_size),
      dirty: num(r.dirty),
    }));
  }

  /** Record a regenerated scope: its files replace the old ones and it is clean again. */
  saveScope(
    release: string,
    dist: string,
    component: string,
    architecture: string,
    files: IndexFileRecord[],
    chunks: ChunkRecord[],
    stillDirty = false,
  ): void {
    this.deleteScope(release, dist, component, architecture);
    this.#run(
      "INSERT INTO indexes (release_id, dist, component, architecture, dirty) VALUES (?, ?, ?, ?, ?)",
      release,
      dist,
      component,
      architecture,
      stillDirty ? 1 : 0,
    );
    for (const c of chunks) {
      this.#run(
        `INSERT INTO index_chunks (release_id, dist, component, architecture, start_name, start_version,
           start_architecture, stanzas, plain_size, gzip_sha256, gzip_size, dirty)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        release,
        dist,
        component,
        architecture,
        c.start[0],
        c.start[1],
        c.start[2],
        c.stanzas,
        c.plainSize,
        c.gzipSha256,
        c.gzipSize,
        c.dirty,
      );
    }
    for (const f of files) {
      this.#run(
        `INSERT INTO index_files (release_id, dist, path, component, architecture, size, md5, sha256, sha512, generated_at,
           storage)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        release,
        dist,
        f.path,
        component,
        architecture,
        f.size,
        f.md5,
        f.sha256,
        f.sha512,
        f.generatedAt,
        f.storage,
      );
    }
  }

  indexFiles(release: string, dist: string): IndexFileRecord[] {
    return this.#all("SELECT * FROM index_files WHERE release_id = ? AND dist = ? ORDER BY path", release, dist).map(
      toIndexFile,
    );
  }

  indexFile(release: string, dist: string, path: string): IndexFileRecord | null {
    const r = this.#first(
      "SELECT * FROM index_files WHERE release_id = ? AND dist = ? AND path = ? AND storage != 'listed'",
      release,
      dist,
      path,
    );
    return r === null ? null : toIndexFile(r);
  }

  setGenerated(release: string, dist: string, text: string, generation: number, at: number): void {
    this.#run(
      `UPDATE dists SET release_text = ?, generated_generation = ?, generated_at = ? WHERE release_id = ? AND dist = ?`,
      text,
      generation,
      at,
      release,
      dist,
    );
  }

  setSigned(
    release: string,
    dist: string,
    files: { release: StoredFile; inRelease: StoredFile; releaseGpg: StoredFile },
    signedBy: string,
    at: number,
  ): void {
    this.#run(
      `UPDATE dists SET changed = 1, release_sha256 = ?, release_size = ?, inrelease_sha256 = ?, inrelease_size = ?,
         release_gpg_sha256 = ?, release_gpg_size = ?, signed_by = ?, signed_at = ? WHERE release_id = ? AND dist = ?`,
      files.release.sha256,
      files.release.size,
      files.inRelease.sha256,
      files.inRelease.size,
      files.releaseGpg.sha256,
      files.releaseGpg.size,
      signedBy,
      at,
      release,
      dist,
    );
  }

  // serving lookups (by-hash and pool look across every release still within retention)

  byHash(
    dist: string,
    directory: string,
    column: "md5" | "sha256" | "sha512",
    hex: string,
    retainedAfter: number,
  ): IndexFileRecord | null {
    const r = this.#first(
      `SELECT f.* FROM index_files f JOIN releases r ON r.id = f.release_id
       WHERE f.${column} = ? AND f.storage != 'listed' AND f.dist = ? AND (f.component || '/binary-' || f.architecture) = ? AND ${RETAINED}
       LIMIT 1`,
      hex,
      dist,
      directory,
      retainedAfter,
    );
    return r === null ? null : toIndexFile(r);
  }

  /** The package at a pool path: the given release's first, else the newest retained release's. */
  poolFile(path: string, preferRelease: string, retainedAfter: number): StoredPackage | null {
    const r = this.#first(
      `SELECT ${STORED_COLUMNS_OF_P} FROM release_members m JOIN releases r ON r.id = m.release_id JOIN packages p ON p.sha256 = m.sha256
       WHERE m.pool_path = ? AND (m.release_id = ? OR ${RETAINED})
       ORDER BY (m.release_id = ?) DESC, r.seq DESC LIMIT 1`,
      path,
      preferRelease,
      retainedAfter,
      preferRelease,
    );
    return r === null ? null : toPackage(r);
  }

  // activations

  insertActivation(release: string, previous: string | null, at: number): void {
    this.#run(
      "INSERT INTO activations (release_id, previous_id, requested_at) VALUES (?, ?, ?)",
      release,
      previous,
      at,
    );
  }

  pendingActivations(): number {
    return num(this.#first("SELECT count(*) AS n FROM activations WHERE visible_at IS NULL")?.n);
  }

  markActivationsVisible(at: number): void {
    this.#run("UPDATE activations SET visible_at = ? WHERE visible_at IS NULL", at);
  }

  /** The release that was visible at `at` (ms), by the activation log. */
  releaseVisibleAt(at: number): string | null {
    const r = this.#first(
      "SELECT release_id FROM activations WHERE visible_at IS NOT NULL AND visible_at <= ? ORDER BY visible_at DESC, seq DESC LIMIT 1",
      at,
    );
    return r === null ? null : str(r.release_id);
  }

  activations(
    limit: number,
  ): { seq: number; release: string; previous: string | null; requestedAt: number; visibleAt: number | null }[] {
    return this.#all("SELECT * FROM activations ORDER BY seq DESC LIMIT ?", limit).map((r) => ({
      seq: num(r.seq),
      release: str(r.release_id),
      previous: optStr(r.previous_id),
      requestedAt: num(r.requested_at),
      visibleAt: optNum(r.visible_at),
    }));
  }

  // trusted keys

  keys(): KeyRecord[] {
    return this.#all("SELECT * FROM trusted_keys ORDER BY added_at, fingerprint").map((r) => ({
      fingerprint: str(r.fingerprint),
      armored: str(r.armored),
      userIds: parseStringArray(str(r.user_ids)),
      algorithm: str(r.algorithm),
      createdAt: str(r.created_at),
      expiresAt: optStr(r.expires_at),
      addedAt: num(r.added_at),
      revokedAt: optNum(r.revoked_at),
      revocationReason: optStr(r.revocation_reason),
    }));
  }

  /**
   * Store a key as the caller merged it. A revocation, once recorded, stays: `revoked_at` and its
   * reason are never cleared, whatever is written later.
   */
  upsertKey(k: KeyRecord): void {
    this.#run(
      `INSERT INTO trusted_keys (fingerprint, armored, user_ids, algorithm, created_at, expires_at, added_at,
         revoked_at, revocation_reason)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (fingerprint) DO UPDATE SET armored = excluded.armored, user_ids = excluded.user_ids,
         expires_at = excluded.expires_at, revoked_at = coalesce(revoked_at, excluded.revoked_at),
         revocation_reason = iif(revoked_at IS NULL, excluded.revocation_reason, revocation_reason)`,
      k.fingerprint,
      k.armored,
      JSON.stringify(k.userIds),
      k.algorithm,
      k.createdAt,
      k.expiresAt,
      k.addedAt,
      k.revokedAt,
      k.revocationReason,
    );
  }

  /** Stop trusting a key: only one never revoked (a revoked key's row is its revocation, kept for good). */
  deleteKey(fingerprint: string): boolean {
    return this.#run("DELETE FROM trusted_keys WHERE fingerprint = ? AND revoked_at IS NULL", fingerprint) > 0;
  }

  // admin: stats, fsck, gc

  counts(): Omit<Stats, "repository" | "open_release" | "active_release" | "dirty"> {
    const n = (q: string) => num(this.#first(q)?.n);
    return {
      packages: n("SELECT count(*) AS n FROM packages"),
      package_bytes: n("SELECT coalesce(sum(size), 0) AS n FROM packages"),
      releases: n("SELECT count(*) AS n FROM releases"),
      memberships: n("SELECT count(*) AS n FROM release_members"),
      membership_rows: n("SELECT count(*) AS n FROM segment_members"),
      index_files: n("SELECT count(DISTINCT sha256) AS n FROM index_files WHERE storage != 'listed'"),
      index_bytes: n(
        "SELECT coalesce(sum(size), 0) AS n FROM (SELECT DISTINCT sha256, size FROM index_files WHERE storage != 'listed')",
      ),
      dirty_indexes: n(
        "SELECT count(*) AS n FROM indexes i JOIN releases r ON r.id = i.release_id WHERE r.state = 'open' AND i.dirty = 1",
      ),
      trusted_keys: n("SELECT count(*) AS n FROM trusted_keys WHERE revoked_at IS NULL"),
      revoked_keys: n("SELECT count(*) AS n FROM trusted_keys WHERE revoked_at IS NOT NULL"),
      activations: n("SELECT count(*) AS n FROM activations"),
    };
  }

  /** Every blob a row points at, with the hash and size the row claims. */
  blobPointers(): BlobPointer[] {
    const out: BlobPointer[] = [];
    for (const r of this.#all("SELECT sha256, size FROM packages WHERE pack IS NULL"))
      out.push({ sha256: str(r.sha256), size: num(r.size), kind: "package" });
    // A pack is at least as long as the furthest package in it reaches (a collected package's
    // bytes stay in the pack until the pack's last package goes).
    for (const r of this.#all(
      "SELECT pack, max(pack_offset + size) AS size FROM packages WHERE pack IS NOT NULL GROUP BY pack",
    ))
      out.push({ sha256: str(r.pack), size: num(r.size), kind: "pack" });
    for (const r of this.#all("SELECT DISTINCT sha256, size FROM index_files WHERE storage = 'blob'"))
      out.push({ sha256: str(r.sha256), size: num(r.size), kind: "index" });
    // A one-chunk index's Packages.gz is its chunk's blob: count each blob once.
    for (const r of this.#all(
      `SELECT DISTINCT gzip_sha256 AS sha256, gzip_size AS size FROM index_chunks
       WHERE gzip_sha256 NOT IN (SELECT sha256 FROM index_files WHERE storage = 'blob')`,
    ))
      out.push({ sha256: str(r.sha256), size: num(r.size), kind: "index" });
    for (const r of this.#all(
      `SELECT release_sha256 AS h, release_size AS s FROM dists WHERE release_sha256 IS NOT NULL
       UNION SELECT inrelease_sha256, inrelease_size FROM dists WHERE inrelease_sha256 IS NOT NULL
       UNION SELECT release_gpg_sha256, release_gpg_size FROM dists WHERE release_gpg_sha256 IS NOT NULL`,
    ))
      out.push({ sha256: str(r.h), size: num(r.s), kind: "release" });
    return out;
  }

  /** Retired releases past retention: their rows go, and with them their claim on blobs. */
  expiredReleases(retainedAfter: number): string[] {
    return this.#all("SELECT id FROM releases WHERE state = 'retired' AND retired_at <= ?", retainedAfter).map((r) =>
      str(r.id),
    );
  }

  deleteRelease(id: string): void {
    // The rows of segments no other release shares go with it.
    this.#run(
      `DELETE FROM segment_members WHERE segment IN (SELECT segment FROM member_segments WHERE release_id = ?
         EXCEPT SELECT segment FROM member_segments WHERE release_id != ?)`,
      id,
      id,
    );
    for (const table of ["member_segments", "dists", "indexes", "index_files", "index_chunks"]) {
      this.#run(`DELETE FROM ${table} WHERE release_id = ?`, id);
    }
    this.#run("DELETE FROM releases WHERE id = ?", id);
  }

  /** Packages no release refers to any more and uploaded before `before` (a grace period for fresh uploads). */
  unreferencedPackages(before: number): string[] {
    return this.#all(
      `SELECT sha256 FROM packages p WHERE uploaded_at < ? AND NOT EXISTS (SELECT 1 FROM segment_members m WHERE m.sha256 = p.sha256)`,
      before,
    ).map((r) => str(r.sha256));
  }

  deletePackage(sha256: string): void {
    this.#run("DELETE FROM packages WHERE sha256 = ?", sha256);
  }

  /** Every blob hash still referenced by a row (packages, index files, Release files and signatures). */
  referencedHashes(): Set<string> {
    return new Set(this.blobPointers().map((p) => p.sha256));
  }
}

/** The columns a stored package is read back by: everything but its control text. */
const STORED_PACKAGE = [
  "sha256",
  "name",
  "version",
  "architecture",
  "source",
  "size",
  "md5",
  "sha1",
  "sha512",
  "uploaded_at",
  "pack",
  "pack_offset",
];
/**
 * A member's stanza in SQL, from its package `p` and its pool path: deb/packages.ts joinStanza
 * around the Filename line. NULL for a package from before migration 4, which has no stored stanza.
 */
function memberStanza(poolPath: string): string {
  return `p.stanza_head || 'Filename: ' || ${poolPath} || char(10) || p.stanza_tail`;
}

const STORED_COLUMNS = STORED_PACKAGE.join(", ");
const STORED_COLUMNS_OF_P = STORED_PACKAGE.map((c) => `p.${c}`).join(", ");

function toPackage(r: Row): StoredPackage {
  return {
    sha256: str(r.sha256),
    name: str(r.name),
    version: str(r.version),
    architecture: str(r.architecture),
    source: str(r.source),
    size: num(r.size),
    md5: str(r.md5),
    sha1: str(r.sha1),
    sha512: str(r.sha512),
    uploadedAt: num(r.uploaded_at),
    packed: r.pack === null || r.pack === undefined ? null : { pack: str(r.pack), offset: num(r.pack_offset) },
  };
}

function toRelease(r: Row): ReleaseRecord {
  const state = str(r.state);
  if (state !== "open" && state !== "active" && state !== "retired") throw new Error(`unknown release state ${state}`);
  return {
    id: str(r.id),
    seq: num(r.seq),
    state,
    parent: optStr(r.parent),
    generation: num(r.generation),
    createdAt: num(r.created_at),
    activatedAt: optNum(r.activated_at),
    retiredAt: optNum(r.retired_at),
  };
}

function toMember(r: Row): MemberRecord {
  return {
    dist: str(r.dist),
    component: str(r.component),
    name: str(r.name),
    version: str(r.version),
    architecture: str(r.architecture),
    sha256: str(r.sha256),
    poolPath: str(r.pool_path),
  };
}

function toDist(r: Row): DistRecord {
  const file = (h: SqlStorageValue | undefined, s: SqlStorageValue | undefined): StoredFile | null =>
    h === null || h === undefined ? null : { sha256: str(h), size: num(s) };
  return {
    dist: str(r.dist),
    changed: num(r.changed) === 1,
    releaseText: optStr(r.release_text),
    generatedGeneration: optNum(r.generated_generation),
    generatedAt: optNum(r.generated_at),
    release: file(r.release_sha256, r.release_size),
    inRelease: file(r.inrelease_sha256, r.inrelease_size),
    releaseGpg: file(r.release_gpg_sha256, r.release_gpg_size),
    signedBy: optStr(r.signed_by),
    signedAt: optNum(r.signed_at),
  };
}

function toIndexFile(r: Row): IndexFileRecord {
  return {
    path: str(r.path),
    component: str(r.component),
    architecture: str(r.architecture),
    size: num(r.size),
    md5: str(r.md5),
    sha256: str(r.sha256),
    sha512: str(r.sha512),
    generatedAt: num(r.generated_at),
    storage: parseStorage(str(r.storage)),
    release: str(r.release_id),
  };
}

function parseStorage(text: string): IndexFileRecord["storage"] {
  if (text === "blob" || text === "chunks" || text === "listed") return text;
  throw new Error(`index file storage "${text}" is not blob, chunks or listed`);
}

/** Control fields are stored as JSON pairs; read back defensively (STYLE.md: parse what storage returns). */
function parseFields(text: string): ControlField[] {
  const data: unknown = JSON.parse(text);
  if (!Array.isArray(data)) throw new Error("stored control fields are not an array");
  return data.map((pair: unknown) => {
    if (!Array.isArray(pair) || typeof pair[0] !== "string" || typeof pair[1] !== "string") {
      throw new Error("stored control field is not a [name, value] pair");
    }
    return { name: pair[0], value: pair[1] };
  });
}

/** The stanza of a package uploaded before migration 4, from `json_array(fields, size, md5, sha256, pool_path)`. */
function legacyStanza(json: string): string {
  const data: unknown = JSON.parse(json);
  if (!Array.isArray(data) || data.length !== 5) throw new Error("expected a legacy stanza row");
  const [fields, size, md5, sha256, filename] = data as [string, number, string, string, string];
  return joinStanza(renderStanzaParts({ fields: parseFields(fields), size, md5, sha256 }), filename);
}

function parseStringArray(text: string): string[] {
  const data: unknown = JSON.parse(text);
  if (!Array.isArray(data) || !data.every((x) => typeof x === "string")) throw new Error("expected a string array");
  return data;
}
