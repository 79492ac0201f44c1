/**
 * Releases (the `releases` table; DESIGN.md §2): copy-on-write snapshots of the whole repository.
 * At most one is open (the draft changes go into) and at most one active (served); activation
 * (publishing/activation.ts) makes a release immutable for good. A new release copies its
 * parent's contents by reference (segments, dists, indexes: rows of references, never blobs),
 * and a release's id is never given to another, a discarded one's included: a document signed
 * for it must not match a new one.
 */
import { LIST_MAX } from "../../schema/limits.ts";
import type { DiscardedRelease, ReleaseDetail, ReleaseList, ReleaseSummary } from "../../schema/responses.ts";
import { err, iso, type Outcome, ok } from "./outcome.ts";
import { type Dists, unsignedDists } from "./publishing/dists.ts";
import type { Indexes } from "./publishing/indexes.ts";
import type { Segments } from "./segments.ts";
import { num, optNum, optStr, type Row, Sql, str } from "./sql.ts";
import type { TrustedKeys } from "./trusted-keys.ts";

export type ReleaseState = "open" | "active" | "retired";

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

/** The highest sequence number a discarded release had: new release ids start above it. */
const RELEASE_SEQ_FLOOR = "release_seq_floor";

/** The retention predicate on `releases r`, bound to the oldest retirement kept: served now, or retired since. */
export const RETAINED = "(r.state = 'active' OR (r.state = 'retired' AND r.retired_at > ?))";

/** RETAINED for one release: the active one, or one retired after `retainedAfter`. */
export function isRetained(r: ReleaseRecord, retainedAfter: number): boolean {
  return r.state === "active" || (r.state === "retired" && (r.retiredAt ?? 0) > retainedAfter);
}

export class Releases {
  readonly #storage: DurableObjectStorage;
  readonly #sql: Sql;
  readonly #segments: Segments;
  readonly #indexes: Indexes;
  readonly #dists: Dists;
  readonly #keys: TrustedKeys;

  constructor(
    storage: DurableObjectStorage,
    parts: { segments: Segments; indexes: Indexes; dists: Dists; keys: TrustedKeys },
  ) {
    this.#storage = storage;
    this.#sql = new Sql(storage.sql);
    this.#segments = parts.segments;
    this.#indexes = parts.indexes;
    this.#dists = parts.dists;
    this.#keys = parts.keys;
  }

  /** Open a new release, empty or from another release. At most one is open. */
  create(input: { from: string; resign: boolean }): Outcome<ReleaseSummary> {
    const open = this.inState("open");
    if (open !== null) {
      return err("release_open", `release ${open.id} is already open; activate it or add to it`, { open: open.id });
    }
    let parent: ReleaseRecord | null = null;
    if (input.from === "active") parent = this.inState("active");
    else if (input.from !== "empty") {
      parent = this.get(input.from);
      if (parent === null) return err("release_not_found", `no release ${input.from} in this repository`);
    }
    const from = parent;
    const created = this.#storage.transactionSync(() => {
      const open = this.#createOpen(from);
      if (!input.resign) return open;
      // Same contents, but every dist needs a newly dated, newly signed Release (see CreateReleaseSchema).
      for (const d of this.#dists.dists(open.id)) this.#dists.touch(open.id, d.dist);
      this.bumpGeneration(open.id);
      return this.get(open.id) ?? open;
    });
    return ok(summarizeRelease(created));
  }

  /** Drop the open release and what only it holds; its id is never given to another release. */
  discard(id: string): Outcome<DiscardedRelease> {
    const r = this.get(id);
    if (r === null) return err("release_not_found", `no release ${id} in this repository`);
    if (r.state !== "open") {
      return err(
        "release_immutable",
        `release ${id} is ${r.state}; only the open release can be discarded (an activated release is kept for rollback until gc)`,
      );
    }
    this.#storage.transactionSync(() => {
      this.#storage.kv.put(RELEASE_SEQ_FLOOR, Math.max(r.seq, this.#storage.kv.get<number>(RELEASE_SEQ_FLOOR) ?? 0));
      this.delete(r.id);
    });
    return ok({ discarded: r.id, parent: r.parent });
  }

  list(): ReleaseList {
    return { releases: this.#list(LIST_MAX).map(summarizeRelease) };
  }

  /** One release: its state, its dists (changed, generated, signed) and package counts. */
  show(id: string): Outcome<ReleaseDetail> {
    const r = this.get(id);
    if (r === null) return err("release_not_found", `no release ${id} in this repository`);
    const dists = this.#dists.dists(r.id);
    return ok({
      ...summarizeRelease(r),
      dists: dists.map((d) => ({
        dist: d.dist,
        changed: d.changed,
        generated_at: iso(d.generatedAt),
        signed_by: d.signedBy,
      })),
      unsigned_dists: r.state === "open" ? unsignedDists(dists, this.#keys.revokedSigners()) : [],
      counts: this.#segments.memberCounts(r.id),
    });
  }

  /** The open release, created from the active one if there is none. Call inside a transaction. */
  open(): ReleaseRecord {
    return this.inState("open") ?? this.#createOpen(this.inState("active"));
  }

  /** What a change is based on, and a listing defaults to: the open release, else the active one. */
  current(): ReleaseRecord | null {
    return this.inState("open") ?? this.inState("active");
  }

  #createOpen(parent: ReleaseRecord | null): ReleaseRecord {
    // Never an id a discarded release had: a document signed for it must not match a new one.
    const seq = Math.max(this.#nextSeq(), (this.#storage.kv.get<number>(RELEASE_SEQ_FLOOR) ?? 0) + 1);
    const id = `r${seq}`;
    this.#insertOpen(id, seq, parent?.id ?? null, Date.now());
    if (parent !== null) {
      // Copy-on-write: the child shares the parent's membership segments (their rows are copied
      // one segment at a time, on the child's first change to each) and starts with its dists and
      // indexes; blobs are shared, never copied.
      this.#segments.copyRelease(parent.id, id);
      this.#dists.copyRelease(parent.id, id);
      this.#indexes.copyRelease(parent.id, id);
    }
    const created = this.get(id);
    if (created === null) throw new Error(`release ${id} vanished right after it was inserted`);
    return created;
  }

  /** A change names a release: it must be the open one (active and retired releases are immutable). */
  mutable(release: string | null): Outcome<never> | null {
    if (release === null) return null;
    const r = this.get(release);
    if (r === null) return err("release_not_found", `no release ${release} in this repository`);
    if (r.state !== "open") {
      return err(
        "release_immutable",
        `release ${release} is ${r.state} and can no longer change; changes go into a new open release`,
      );
    }
    return null;
  }

  /** The release's generation (bumped by every change to it); -1 once it is gone. */
  generationOf(release: string): number {
    return this.get(release)?.generation ?? -1;
  }

  /** A release and what only it holds: its segment references and unshared rows, dists and indexes. */
  delete(id: string): void {
    this.#segments.deleteRelease(id);
    this.#dists.deleteRelease(id);
    this.#indexes.deleteRelease(id);
    this.#sql.run("DELETE FROM releases WHERE id = ?", id);
  }

  // SQL

  get(id: string): ReleaseRecord | null {
    const r = this.#sql.first("SELECT * FROM releases WHERE id = ?", id);
    return r === null ? null : toRelease(r);
  }

  inState(state: "open" | "active"): ReleaseRecord | null {
    const r = this.#sql.first("SELECT * FROM releases WHERE state = ?", state);
    return r === null ? null : toRelease(r);
  }

  #list(limit: number): ReleaseRecord[] {
    return this.#sql.all("SELECT * FROM releases ORDER BY seq DESC LIMIT ?", limit).map(toRelease);
  }

  #nextSeq(): number {
    return num(this.#sql.first("SELECT coalesce(max(seq), 0) + 1 AS next FROM releases")?.next);
  }

  #insertOpen(id: string, seq: number, parent: string | null, at: number): void {
    this.#sql.run(
      "INSERT INTO releases (id, seq, state, parent, generation, created_at) VALUES (?, ?, 'open', ?, 0, ?)",
      id,
      seq,
      parent,
      at,
    );
  }

  bumpGeneration(id: string): number {
    return num(
      this.#sql.first("UPDATE releases SET generation = generation + 1 WHERE id = ? RETURNING generation", id)
        ?.generation,
    );
  }

  /** Flip states for an activation: the current active release (if any) retires. */
  switchActive(id: string, at: number): void {
    this.#sql.run("UPDATE releases SET state = 'retired', retired_at = ? WHERE state = 'active'", at);
    this.#sql.run("UPDATE releases SET state = 'active', activated_at = ?, retired_at = NULL WHERE id = ?", at, id);
  }

  /** Retired releases past retention: their rows go, and with them their claim on blobs. */
  expired(retainedAfter: number): string[] {
    return this.#sql
      .all("SELECT id FROM releases WHERE state = 'retired' AND retired_at <= ?", retainedAfter)
      .map((r) => str(r.id));
  }
}

export function summarizeRelease(r: ReleaseRecord): ReleaseSummary {
  return {
    id: r.id,
    state: r.state,
    parent: r.parent,
    generation: r.generation,
    created_at: new Date(r.createdAt).toISOString(),
    activated_at: iso(r.activatedAt),
    retired_at: iso(r.retiredAt),
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
