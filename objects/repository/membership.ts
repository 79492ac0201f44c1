/**
 * Changes to the open release's membership, kept as key-ranged segments (migration 3). Releases
 * share segments: opening a release from another copies about one reference per thousand members,
 * and the open release copies a segment's rows only when it first changes that segment. So adding
 * one package on top of 63,000 copies one segment, not 63,000 rows.
 *
 * Invariants, kept by `put` and `remove`:
 * - a release's segments of a dist and component cover its keys without overlap: each holds the
 *   keys from its start to the next segment's start, and the first starts at FIRST_KEY;
 * - only an owned segment of the open release changes, so a shared segment never does;
 * - a component with no members has no segments, and only the first segment may be empty;
 * - a segment holds at most 2 × SEGMENT_ROWS members: a larger one is cut into even pieces.
 */
import { coveringIndex, groupBy } from "./keys.ts";
import { FIRST_KEY, type IndexKey, type MemberRecord, type Queries, type SegmentRef } from "./queries.ts";

/** Members per segment after a split: what the first change to a shared segment copies. */
export const SEGMENT_ROWS = 1024;

export class Membership {
  readonly #q: Queries;

  constructor(q: Queries) {
    this.#q = q;
  }

  /** Add members to the open release, or point them at new content. Call inside a transaction. */
  put(release: string, members: readonly MemberRecord[]): void {
    for (const group of groupBy(members, (m) => `${m.dist}\0${m.component}`).values()) {
      const { dist, component } = group[0] as MemberRecord;
      const refs = this.#q.segments(release, dist, component);
      if (refs.length === 0) {
        const segment = this.#q.newSegmentId();
        this.#q.addSegment(release, dist, component, FIRST_KEY, segment);
        refs.push({ start: FIRST_KEY, segment, owned: true });
      }
      for (const [segment, changed] of this.#writable(release, dist, component, refs, group)) {
        for (const m of changed) this.#q.putSegmentMember(segment.segment, m);
        this.#splitIfLarge(release, dist, component, segment);
      }
    }
  }

  /** Take members out of the open release. Call inside a transaction. */
  remove(release: string, members: readonly MemberRecord[]): void {
    for (const group of groupBy(members, (m) => `${m.dist}\0${m.component}`).values()) {
      const { dist, component } = group[0] as MemberRecord;
      const refs = this.#q.segments(release, dist, component);
      const first = refs[0];
      for (const [segment, changed] of this.#writable(release, dist, component, refs, group)) {
        for (const m of changed) this.#q.deleteSegmentMember(segment.segment, [m.name, m.version, m.architecture]);
        if (segment !== first && this.#q.segmentSize(segment.segment) === 0) {
          this.#q.dropSegment(release, dist, component, segment.start);
        }
      }
      const left = this.#q.segments(release, dist, component);
      const only = left.length === 1 ? left[0] : undefined;
      if (only !== undefined && this.#q.segmentSize(only.segment) === 0) {
        this.#q.dropSegment(release, dist, component, only.start);
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
      ref.segment = this.#q.copySegment(release, dist, component, ref);
      ref.owned = true;
    }
    return out;
  }

  /** Cut a segment grown past 2 × SEGMENT_ROWS into even pieces, each a segment of its own. */
  #splitIfLarge(release: string, dist: string, component: string, ref: SegmentRef): void {
    if (this.#q.segmentSize(ref.segment) <= 2 * SEGMENT_ROWS) return;
    const keys = this.#q.segmentKeys(ref.segment);
    const pieces = Math.ceil(keys.length / SEGMENT_ROWS);
    // Highest piece first: each move then takes only that piece's rows out of the segment.
    for (let i = pieces - 1; i > 0; i--) {
      const start = keys[Math.floor((i * keys.length) / pieces)] as IndexKey;
      const piece = this.#q.newSegmentId();
      this.#q.addSegment(release, dist, component, start, piece);
      this.#q.moveSegmentTail(ref.segment, piece, start);
    }
  }
}
