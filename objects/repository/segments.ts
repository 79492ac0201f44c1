/**
 * Which packages each release lists, stored as key-ranged segments (migration 3): the tables
 * `member_segments` and `segment_members` and the view `release_members`. Releases share
 * segments: opening a release from another copies about one reference per thousand members, and
 * the open release copies a segment's rows only when it first changes that segment. So adding one
 * package on top of 63,000 copies one segment, not 63,000 rows. Each member row carries its
 * stanza as its index lists it (migration 7), so generating an index reads this table alone.
 *
 * Invariants, kept by `put` and `remove`:
 * - a release's segments of a dist and component cover its keys without overlap: each holds the
 *   keys from its start to the next segment's start, and the first starts at FIRST_KEY;
 * - only an owned segment of the open release changes, so a shared segment never does;
 * - a component with no members has no segments, and only the first segment may be empty;
 * - a segment holds at most 2 × SEGMENT_ROWS members: a larger one is cut into even pieces.
 */
import { FILENAME_LINE } from "../../deb/packages.ts";
import { coveringIndex, FIRST_KEY, groupBy, type IndexKey } from "./index-keys.ts";
import { num, type Row, Sql, str } from "./sql.ts";

/** Members per segment after a split: what the first change to a shared segment copies. */
export const SEGMENT_ROWS = 1024;

/** One package listed by a release: in a dist and component, at its pool path. */
export interface MemberRecord {
  dist: string;
  component: string;
  name: string;
  version: string;
  architecture: string;
  sha256: string;
  poolPath: string;
}

/** One segment of a release's membership of a dist and component. */
export interface SegmentRef {
  start: IndexKey;
  segment: number;
  /** Created by this release, which may change it in place; otherwise shared and copied before a change. */
  owned: boolean;
}

/** One stanza of an index as generation reads it: its key and its text (ending in "\n"). */
export interface IndexRow {
  key: IndexKey;
  stanza: string;
}

/**
 * A member's stanza in SQL, from its package `p` and its pool path: deb/packages.ts joinStanza
 * (the same Filename line) around the halves stored at upload (migration 4).
 */
function memberStanza(poolPath: string): string {
  return `p.stanza_head || '${FILENAME_LINE.before}' || ${poolPath} || '${FILENAME_LINE.after}' || p.stanza_tail`;
}

/**
 * Membership of release ?1 that release ?2 lacks, bound as (a, b, b, a). Segments both releases
 * reference hold the same rows for both, so only the segments each has alone are compared.
 */
const ONLY_IN = `SELECT dist, component, name, version, architecture, sha256, pool_path FROM release_members
  WHERE release_id = ? AND segment NOT IN (SELECT segment FROM member_segments WHERE release_id = ?)
  EXCEPT SELECT dist, component, name, version, architecture, sha256, pool_path FROM release_members
  WHERE release_id = ? AND segment NOT IN (SELECT segment FROM member_segments WHERE release_id = ?)`;

export class Segments {
  readonly #sql: Sql;

  constructor(storage: DurableObjectStorage) {
    this.#sql = new Sql(storage.sql);
  }

  /** Add members to the open release, or point them at new content. Call inside a transaction. */
  put(release: string, members: readonly MemberRecord[]): void {
    for (const group of groupBy(members, (m) => `${m.dist}\0${m.component}`).values()) {
      const { dist, component } = group[0] as MemberRecord;
      const refs = this.#segments(release, dist, component);
      if (refs.length === 0) {
        const segment = this.#newSegmentId();
        this.#addSegment(release, dist, component, FIRST_KEY, segment);
        refs.push({ start: FIRST_KEY, segment, owned: true });
      }
      for (const [segment, changed] of this.#writable(release, dist, component, refs, group)) {
        for (const m of changed) this.#putSegmentMember(segment.segment, m);
        this.#splitIfLarge(release, dist, component, segment);
      }
    }
  }

  /** Take members out of the open release. Call inside a transaction. */
  remove(release: string, members: readonly MemberRecord[]): void {
    for (const group of groupBy(members, (m) => `${m.dist}\0${m.component}`).values()) {
      const { dist, component } = group[0] as MemberRecord;
      const refs = this.#segments(release, dist, component);
      const first = refs[0];
      for (const [segment, changed] of this.#writable(release, dist, component, refs, group)) {
        for (const m of changed) this.#deleteSegmentMember(segment.segment, [m.name, m.version, m.architecture]);
        if (segment !== first && this.#segmentSize(segment.segment) === 0) {
          this.#dropSegment(release, dist, component, segment.start);
        }
      }
      const left = this.#segments(release, dist, component);
      const only = left.length === 1 ? left[0] : undefined;
      if (only !== undefined && this.#segmentSize(only.segment) === 0) {
        this.#dropSegment(release, dist, component, only.start);
      }
    }
  }

  /**
   * The members grouped by the segment whose range holds them, each segment the release's own:
   * a shared one is copied first, once.
   */
  #writable(
    release: string,
    dist: string,
    component: string,
    refs: SegmentRef[],
    members: readonly MemberRecord[],
  ): Map<SegmentRef, MemberRecord[]> {
    const starts = refs.map((r) => r.start);
    const out = new Map<SegmentRef, MemberRecord[]>();
    for (const m of members) {
      const ref = refs[coveringIndex(starts, [m.name, m.version, m.architecture])];
      if (ref === undefined) throw new Error(`no segment of ${dist}/${component} starts at or below ${m.name}`);
      const group = out.get(ref);
      if (group === undefined) out.set(ref, [m]);
      else group.push(m);
    }
    for (const ref of out.keys()) {
      if (ref.owned) continue;
      ref.segment = this.#copySegment(release, dist, component, ref);
      ref.owned = true;
    }
    return out;
  }

  /** Cut a segment grown past 2 × SEGMENT_ROWS into even pieces, each a segment of its own. */
  #splitIfLarge(release: string, dist: string, component: string, ref: SegmentRef): void {
    if (this.#segmentSize(ref.segment) <= 2 * SEGMENT_ROWS) return;
    const keys = this.#segmentKeys(ref.segment);
    const pieces = Math.ceil(keys.length / SEGMENT_ROWS);
    // Highest piece first: each move then takes only that piece's rows out of the segment.
    for (let i = pieces - 1; i > 0; i--) {
      const start = keys[Math.floor((i * keys.length) / pieces)] as IndexKey;
      const piece = this.#newSegmentId();
      this.#addSegment(release, dist, component, start, piece);
      this.#moveSegmentTail(ref.segment, piece, start);
    }
  }

  // the segments of a release

  /** The segments of a release's dist and component, in key order. */
  #segments(release: string, dist: string, component: string): SegmentRef[] {
    return this.#sql
      .all(
        `SELECT start_name, start_version, start_architecture, segment, owned FROM member_segments
         WHERE release_id = ? AND dist = ? AND component = ? ORDER BY start_name, start_version, start_architecture`,
        release,
        dist,
        component,
      )
      .map((r) => ({
        start: [str(r.start_name), str(r.start_version), str(r.start_architecture)] as const,
        segment: num(r.segment),
        owned: num(r.owned) === 1,
      }));
  }

  /** An unused segment number: above every referenced one and every one holding rows. */
  #newSegmentId(): number {
    return num(
      this.#sql.first(
        `SELECT max(coalesce((SELECT max(segment) FROM member_segments), 0),
           coalesce((SELECT max(segment) FROM segment_members), 0)) + 1 AS id`,
      )?.id,
    );
  }

  /** Give a release a segment of its own starting at `start`. */
  #addSegment(release: string, dist: string, component: string, start: IndexKey, segment: number): void {
    this.#sql.run(
      `INSERT INTO member_segments (release_id, dist, component, start_name, start_version, start_architecture,
         segment, owned) VALUES (?, ?, ?, ?, ?, ?, ?, 1)`,
      release,
      dist,
      component,
      ...start,
      segment,
    );
  }

  #dropSegment(release: string, dist: string, component: string, start: IndexKey): void {
    this.#sql.run(
      `DELETE FROM member_segments WHERE release_id = ? AND dist = ? AND component = ? AND start_name = ?
       AND start_version = ? AND start_architecture = ?`,
      release,
      dist,
      component,
      ...start,
    );
  }

  /** Copy a shared segment's rows into a new segment the release owns, in its place; returns the copy. */
  #copySegment(release: string, dist: string, component: string, ref: SegmentRef): number {
    const copy = this.#newSegmentId();
    this.#sql.run(
      `INSERT INTO segment_members (segment, name, version, architecture, sha256, pool_path, stanza)
       SELECT ?, name, version, architecture, sha256, pool_path, stanza FROM segment_members WHERE segment = ?`,
      copy,
      ref.segment,
    );
    this.#sql.run(
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
  #putSegmentMember(segment: number, m: MemberRecord): void {
    this.#sql.run(
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

  #deleteSegmentMember(segment: number, key: IndexKey): void {
    this.#sql.run(
      "DELETE FROM segment_members WHERE segment = ? AND name = ? AND version = ? AND architecture = ?",
      segment,
      ...key,
    );
  }

  #segmentSize(segment: number): number {
    return num(this.#sql.first("SELECT count(*) AS n FROM segment_members WHERE segment = ?", segment)?.n);
  }

  /** A segment's keys in order (what a split needs to cut it evenly). */
  #segmentKeys(segment: number): IndexKey[] {
    return this.#sql
      .all(
        "SELECT name, version, architecture FROM segment_members WHERE segment = ? ORDER BY name, version, architecture",
        segment,
      )
      .map((r) => [str(r.name), str(r.version), str(r.architecture)] as const);
  }

  /** Move the rows of a segment at or above `from` into another segment. */
  #moveSegmentTail(segment: number, to: number, from: IndexKey): void {
    this.#sql.run(
      "UPDATE segment_members SET segment = ? WHERE segment = ? AND (name, version, architecture) >= (?, ?, ?)",
      to,
      segment,
      ...from,
    );
  }

  /** A new release shares its parent's segments: their references are copied, never their rows. */
  copyRelease(from: string, to: string): void {
    this.#sql.run(
      `INSERT INTO member_segments (release_id, dist, component, start_name, start_version, start_architecture,
         segment, owned)
       SELECT ?, dist, component, start_name, start_version, start_architecture, segment, 0 FROM member_segments
       WHERE release_id = ?`,
      to,
      from,
    );
  }

  /** A release's segment references, and the rows of those no other release shares. */
  deleteRelease(id: string): void {
    this.#sql.run(
      `DELETE FROM segment_members WHERE segment IN (SELECT segment FROM member_segments WHERE release_id = ?
         EXCEPT SELECT segment FROM member_segments WHERE release_id != ?)`,
      id,
      id,
    );
    this.#sql.run("DELETE FROM member_segments WHERE release_id = ?", id);
  }

  // reads

  /** The members of a dist and component with these names, as "name version architecture" → sha256. */
  membersNamed(release: string, dist: string, component: string, names: readonly string[]): Map<string, string> {
    const rows = this.#sql.allIn(
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
    return this.#sql
      .allIn(
        (marks) =>
          `SELECT DISTINCT pool_path, sha256, name, version, architecture FROM segment_members WHERE pool_path IN (${marks})`,
        paths,
      )
      .map((r) => ({
        poolPath: str(r.pool_path),
        sha256: str(r.sha256),
        name: str(r.name),
        version: str(r.version),
        architecture: str(r.architecture),
      }));
  }

  /** The members of one release at these pool paths, in any dist. */
  releaseMembersAt(release: string, paths: readonly string[]): MemberRecord[] {
    return this.#sql
      .allIn(
        (marks) => `SELECT * FROM release_members WHERE release_id = ? AND pool_path IN (${marks})`,
        paths,
        release,
      )
      .map(toMember);
  }

  /** The newest release (and dist) listing this content at this pool path, for a message. */
  listingOf(path: string, sha256: string): { release: string; dist: string } | null {
    const r = this.#sql.first(
      `SELECT m.release_id, m.dist FROM release_members m JOIN releases r ON r.id = m.release_id
       WHERE m.pool_path = ? AND m.sha256 = ? ORDER BY r.seq DESC LIMIT 1`,
      path,
      sha256,
    );
    return r === null ? null : { release: str(r.release_id), dist: str(r.dist) };
  }

  /** Members matching a removal filter; `null` filter fields match anything. */
  matchingMembers(
    release: string,
    dist: string,
    f: { component: string | null; name: string; version: string | null; architecture: string | null },
  ): MemberRecord[] {
    return this.#sql
      .all(
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
      )
      .map(toMember);
  }

  listMembers(
    release: string,
    f: { dist: string | null; component: string | null; architecture: string | null; name: string | null },
    limit: number,
  ): MemberRecord[] {
    return this.#sql
      .all(
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
      )
      .map(toMember);
  }

  /** Added and removed membership between two releases (a diff), at most `limit` of each. */
  membersOnlyIn(a: string, b: string, limit: number): MemberRecord[] {
    return this.#sql.all(`${ONLY_IN} ORDER BY 1, 2, 3, 4, 5 LIMIT ?`, a, b, b, a, limit).map(toMember);
  }

  countMembersOnlyIn(a: string, b: string): number {
    return num(this.#sql.first(`SELECT count(*) AS n FROM (${ONLY_IN})`, a, b, b, a)?.n);
  }

  memberCounts(release: string): { dist: string; component: string; architecture: string; count: number }[] {
    return this.#sql
      .all(
        `SELECT dist, component, architecture, count(*) AS n FROM release_members WHERE release_id = ?
         GROUP BY dist, component, architecture ORDER BY dist, component, architecture`,
        release,
      )
      .map((r) => ({
        dist: str(r.dist),
        component: str(r.component),
        architecture: str(r.architecture),
        count: num(r.n),
      }));
  }

  /** The components of a dist with members (a component whose last member goes loses its segments). */
  components(release: string, dist: string): string[] {
    return this.#sql
      .all(
        "SELECT DISTINCT component FROM member_segments WHERE release_id = ? AND dist = ? ORDER BY component",
        release,
        dist,
      )
      .map((r) => str(r.component));
  }

  /**
   * The architectures a dist's members have. Each segment's are found by seeking its index on
   * (segment, architecture) from one architecture to the next (migration 7): a few seeks per
   * segment, where a DISTINCT over the members read every row of the dist.
   */
  architectures(release: string, dist: string): string[] {
    return this.#sql
      .all(
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
      )
      .map((r) => str(r.architecture));
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
    return this.#sql
      .raw(
        // Rows come back as arrays: a full generate reads every row of the dist, and without column
        // names materializing them costs half as much. Each member carries its whole stanza
        // (migration 7; migration 10 gave one to the members of packages from before migration 4),
        // so no row is joined to its package. Only a member written after migration 7 by code from
        // before it, as after a rollback of the Worker, has none: it takes its package's.
        `SELECT m.name, m.version, m.architecture,
           coalesce(m.stanza, (SELECT ${memberStanza("m.pool_path")} FROM packages p WHERE p.sha256 = m.sha256))
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
      )
      .map(([name, version, arch, stanza]) => {
        if (stanza === null) {
          throw new Error(`${String(name)} ${String(version)} (${String(arch)}) has no stanza: see migration 10`);
        }
        return { key: [str(name), str(version), str(arch)] as const, stanza: str(stanza) };
      });
  }
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
