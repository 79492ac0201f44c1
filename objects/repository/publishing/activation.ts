/**
 * The last step of publishing (DESIGN.md §3, §4b): a release becomes the served one, and only
 * once the edge's pointer in D1 names it is the activation done. `activations` logs every
 * activation with when it was asked for and when the edge first served it (`visible_at`, the
 * time snapshot URLs resolve against); an activation not yet visible always has the object's
 * alarm pending, so the pointer converges whatever happens to the object meanwhile.
 */
import { setActiveRelease } from "../../../d1/statements.ts";
import { LIST_MAX } from "../../../schema/limits.ts";
import type { ActivatedRelease, ActivationLog } from "../../../schema/responses.ts";
import { err, iso, type Outcome, ok } from "../outcome.ts";
import { isRetained, type Releases } from "../releases.ts";
import type { Settings } from "../settings.ts";
import { num, optNum, optStr, Sql, str } from "../sql.ts";
import type { TrustedKeys } from "../trusted-keys.ts";
import { type Dists, unsignedDists } from "./dists.ts";

/** Retry delay for an activation whose D1 pointer write failed, or a deletion cut short (maintenance.ts). */
export const RETRY_MS = 5_000;

export class Activation {
  readonly #storage: DurableObjectStorage;
  readonly #sql: Sql;
  /** Read at each write: the binding as the object has it now (tests replace it). */
  readonly #db: () => D1Database;
  readonly #releases: Releases;
  readonly #dists: Dists;
  readonly #keys: TrustedKeys;

  constructor(
    storage: DurableObjectStorage,
    db: () => D1Database,
    parts: { releases: Releases; dists: Dists; keys: TrustedKeys },
  ) {
    this.#storage = storage;
    this.#sql = new Sql(storage.sql);
    this.#db = db;
    this.#releases = parts.releases;
    this.#dists = parts.dists;
    this.#keys = parts.keys;
  }

  /**
   * Make a release the served one: an open release whose changed dists are all signed, or a
   * retired one still within retention (rollback). Activating the active release again writes
   * its pointer if that is still pending.
   */
  async activate(s: Settings, id: string): Promise<Outcome<ActivatedRelease>> {
    const r = this.#releases.get(id);
    if (r === null) return err("release_not_found", `no release ${id} in this repository`);
    const now = Date.now();
    const active = this.#releases.inState("active");
    if (r.state === "active") {
      if (this.#pending() > 0) {
        const refused = await this.#publishPointer(s, id);
        if (refused) return refused;
      }
      return ok({ release: r.id, previous: r.parent, activated_at: new Date(r.activatedAt ?? now).toISOString() });
    }
    if (r.state === "retired" && !isRetained(r, now - s.retentionSeconds * 1000)) {
      return err(
        "release_expired",
        `release ${id} was retired more than the retention period ago and can no longer be served`,
      );
    }
    if (r.state === "open") {
      const dists = this.#dists.dists(r.id);
      const revoked = this.#keys.revokedSigners();
      const unsigned = unsignedDists(dists, revoked);
      if (unsigned.length > 0) {
        const resign = dists.filter((d) => d.signedBy !== null && revoked.has(d.signedBy) && unsigned.includes(d.dist));
        const why =
          resign.length === 0
            ? ""
            : ` (${resign.map((d) => `${d.dist} was signed by ${d.signedBy}, revoked since`).join("; ")})`;
        return err(
          "release_unsigned",
          `release ${id} cannot be activated until these dists are generated, signed and uploaded: ${unsigned.join(", ")}${why}`,
          { unsigned_dists: unsigned },
        );
      }
    }
    this.#storage.transactionSync(() => {
      this.#releases.switchActive(r.id, now);
      this.#insert(r.id, active?.id ?? null, now);
    });
    const refused = await this.#publishPointer(s, id);
    if (refused) return refused;
    return ok({ release: r.id, previous: active?.id ?? null, activated_at: new Date(now).toISOString() });
  }

  /**
   * An activation this object committed but D1 never confirmed must have a pointer write coming:
   * one left by an object that died before it could record the retry (code older than
   * `#publishPointer`), or whose alarm was lost, gets one now. Run in the constructor.
   */
  async resume(): Promise<void> {
    if (this.#pending() === 0) return;
    if ((await this.#storage.getAlarm()) === null) await this.#storage.setAlarm(Date.now());
  }

  /** The alarm's part: write the pointer of an activation not yet visible, again later if D1 fails. */
  async retry(s: Settings): Promise<void> {
    if (this.#pending() === 0) return;
    if ((await this.#syncPointer(s)) === "failed") await this.#storage.setAlarm(Date.now() + RETRY_MS);
  }

  /**
   * Make D1's pointer name the active release, after an activation was committed (or found
   * pending). The retry is scheduled before the write is sent, with no I/O in between: the alarm
   * is stored in the same output-gated step as the commit, and the output gate holds the D1
   * request until both are on disk. However the object dies from then on (before, during or
   * after the write), its alarm writes the pointer; a constructor finding activations pending
   * with no alarm schedules one too (`resume`). Returns the refusal to answer, or null.
   */
  async #publishPointer(s: Settings, id: string): Promise<Outcome<never> | null> {
    await this.#storage.setAlarm(Date.now() + RETRY_MS);
    const written = await this.#syncPointer(s);
    if (written === "failed") {
      return err(
        "activation_pending",
        `release ${id} is active in the repository, but the edge still serves the previous release: writing its pointer to D1 failed. The repository retries on its own every few seconds; \`armor release activate ${id}\` retries now`,
        { release: id },
      );
    }
    await this.#storage.deleteAlarm();
    if (written === "gone") {
      return err(
        "repository_not_found",
        `repository ${s.id} was deleted at the edge while release ${id} was activated`,
      );
    }
    return null;
  }

  /**
   * Write the active pointer to D1, which every edge request reads. The edge serves whatever
   * release D1 names, so until this succeeds the old release stays fully visible; only once it
   * succeeds is the activation logged as visible (the time snapshot URLs resolve against).
   * "gone": the repository's row is no longer in D1 (it is being deleted), and retrying would
   * never succeed; D1 rows are never recreated for this object's lifetime, only for a successor
   * created after `destroy`, which clears this object's activations and alarm.
   */
  async #syncPointer(s: Settings): Promise<"written" | "failed" | "gone"> {
    const active = this.#releases.inState("active");
    try {
      // Only this lifetime's row: a successor created under the same id has another uid, and a
      // late retry of a deleted repository's object must never move its pointer.
      if (!(await setActiveRelease(this.#db(), s, active?.id ?? null))) {
        console.error(`no D1 row for repository ${s.id}: its pointer is not written, nor retried`);
        return "gone";
      }
    } catch (cause) {
      console.error("writing the active release pointer to D1 failed", cause);
      return "failed";
    }
    this.#markVisible(Date.now());
    return "written";
  }

  /** The activation log, newest first. */
  log(): ActivationLog {
    return {
      activations: this.#list(LIST_MAX).map((a) => ({
        release: a.release,
        previous: a.previous,
        requested_at: new Date(a.requestedAt).toISOString(),
        visible_at: iso(a.visibleAt),
      })),
    };
  }

  // SQL

  #insert(release: string, previous: string | null, at: number): void {
    this.#sql.run(
      "INSERT INTO activations (release_id, previous_id, requested_at) VALUES (?, ?, ?)",
      release,
      previous,
      at,
    );
  }

  #pending(): number {
    return num(this.#sql.first("SELECT count(*) AS n FROM activations WHERE visible_at IS NULL")?.n);
  }

  #markVisible(at: number): void {
    this.#sql.run("UPDATE activations SET visible_at = ? WHERE visible_at IS NULL", at);
  }

  /** The release that was visible at `at` (ms), by the activation log. */
  visibleAt(at: number): string | null {
    const r = this.#sql.first(
      "SELECT release_id FROM activations WHERE visible_at IS NOT NULL AND visible_at <= ? ORDER BY visible_at DESC, seq DESC LIMIT 1",
      at,
    );
    return r === null ? null : str(r.release_id);
  }

  #list(
    limit: number,
  ): { seq: number; release: string; previous: string | null; requestedAt: number; visibleAt: number | null }[] {
    return this.#sql.all("SELECT * FROM activations ORDER BY seq DESC LIMIT ?", limit).map((r) => ({
      seq: num(r.seq),
      release: str(r.release_id),
      previous: optStr(r.previous_id),
      requestedAt: num(r.requested_at),
      visibleAt: optNum(r.visible_at),
    }));
  }
}
