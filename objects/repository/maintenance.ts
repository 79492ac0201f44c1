/**
 * Looking after a repository's storage (the admin API): counts, a full reindex, checking every
 * blob a row points at (fsck), collecting what no release within retention needs (gc), and
 * deleting the repository (destroy). gc and destroy are the only code that removes blobs.
 */
import { toHex } from "../../deb/hash.ts";
import { blobKey, blobPrefix, repositoryPrefixes, stagingPrefix } from "../../r2/blobs.ts";
import type { Collected, Destroyed, Fsck, Reindexed, Stats } from "../../schema/responses.ts";
import { migrate } from "./migrations.ts";
import { type Outcome, ok } from "./outcome.ts";
import type { Packages } from "./packages.ts";
import { RETRY_MS } from "./publishing/activation.ts";
import type { Dists } from "./publishing/dists.ts";
import type { Indexes } from "./publishing/indexes.ts";
import type { Releases } from "./releases.ts";
import { DESTROYING, type Settings } from "./settings.ts";
import { num, Sql, str } from "./sql.ts";

/** A blob some row needs: its address, its size (for a pack, the least it must have) and what it is. */
interface BlobPointer {
  sha256: string;
  size: number;
  kind: "package" | "pack" | "index" | "release";
}

export class Maintenance {
  readonly #storage: DurableObjectStorage;
  readonly #sql: Sql;
  readonly #bucket: () => R2Bucket;
  readonly #releases: Releases;
  readonly #packages: Packages;
  readonly #indexes: Indexes;
  readonly #dists: Dists;

  constructor(
    storage: DurableObjectStorage,
    bucket: () => R2Bucket,
    parts: { releases: Releases; packages: Packages; indexes: Indexes; dists: Dists },
  ) {
    this.#storage = storage;
    this.#sql = new Sql(storage.sql);
    this.#bucket = bucket;
    this.#releases = parts.releases;
    this.#packages = parts.packages;
    this.#indexes = parts.indexes;
    this.#dists = parts.dists;
  }

  /** Counts, bytes and the dirty indexes of the open release. */
  stats(s: Settings): Stats {
    const open = this.#releases.inState("open");
    const active = this.#releases.inState("active");
    const dirty = open === null ? [] : this.#dirtyScopes(open.id);
    return {
      repository: s.id,
      open_release: open?.id ?? null,
      active_release: active?.id ?? null,
      ...this.#counts(),
      dirty,
    };
  }

  /** Mark every index of the open release dirty (opening one from the active release), so the next generate rebuilds and re-stores all. */
  reindex(): Reindexed {
    const result = this.#storage.transactionSync(() => {
      const open = this.#releases.open();
      this.#indexes.markAllDirty(open.id);
      for (const d of this.#dists.dists(open.id)) this.#dists.touch(open.id, d.dist);
      return { release: open.id, generation: this.#releases.bumpGeneration(open.id) };
    });
    return { ...result, dirty: this.#dirtyScopes(result.release).length };
  }

  #dirtyScopes(release: string): string[] {
    return this.#indexes.dirtyScopes(
      release,
      this.#dists.dists(release).map((d) => d.dist),
    );
  }

  /** Check that every blob a row points at exists in R2 with the size and SHA-256 the row claims. */
  async fsck(s: Settings): Promise<Fsck> {
    const pointers = this.#blobPointers();
    const problems: { sha256: string; kind: string; problem: string }[] = [];
    for (const p of pointers) {
      const head = await this.#bucket().head(blobKey(s.scope, p.sha256));
      if (head === null) problems.push({ sha256: p.sha256, kind: p.kind, problem: "missing" });
      else if (p.kind === "pack" ? head.size < p.size : head.size !== p.size) {
        problems.push({
          sha256: p.sha256,
          kind: p.kind,
          problem: `size ${head.size}, expected ${p.kind === "pack" ? "at least " : ""}${p.size}`,
        });
      } else {
        const stored = head.checksums.sha256;
        // Objects assembled from multipart uploads carry no SHA-256 of their own: hash the bytes.
        const hex = stored === undefined ? await this.#hashBlob(s.scope, p.sha256) : toHex(stored);
        if (hex === null) problems.push({ sha256: p.sha256, kind: p.kind, problem: "missing" });
        else if (hex !== p.sha256) problems.push({ sha256: p.sha256, kind: p.kind, problem: `sha256 is ${hex}` });
      }
    }
    return { checked: pointers.length, problems };
  }

  async #hashBlob(scope: string, sha256: string): Promise<string | null> {
    const object = await this.#bucket().get(blobKey(scope, sha256));
    if (object === null) return null;
    const digest = new crypto.DigestStream("SHA-256");
    await object.body.pipeTo(digest);
    return toHex(await digest.digest);
  }

  /**
   * Delete what no release within retention needs: retired releases past retention, packages no
   * release refers to (after a grace period for fresh uploads), and the blobs nothing points at.
   * This is the only place unreferenced blobs are removed: a refused or failed upload leaves what
   * it stored, because another request may have stored or found the same bytes and be about to
   * register them (DESIGN.md §4b); the grace period covers that window. Multipart staging objects
   * (r2/blobs.ts stagingKey) whose completing request died before deleting them go after the
   * same grace period; counted with the blobs.
   */
  async gc(s: Settings, options: { graceSeconds: number }): Promise<Collected> {
    const now = Date.now();
    const before = now - options.graceSeconds * 1000;
    const expired = this.#releases.expired(now - s.retentionSeconds * 1000);
    const packages = this.#storage.transactionSync(() => {
      for (const id of expired) this.#releases.delete(id);
      const gone = this.#packages.unreferenced(before);
      for (const sha of gone) this.#packages.delete(sha);
      return gone.length;
    });
    const referenced = new Set(this.#blobPointers().map((p) => p.sha256));
    const blobs = await this.#sweep(blobPrefix(s.scope), before, (sha256) => referenced.has(sha256));
    const staged = await this.#sweep(stagingPrefix(s.scope), before, () => false);
    return {
      releases_deleted: expired,
      packages_deleted: packages,
      blobs_deleted: blobs.count + staged.count,
      bytes_freed: blobs.bytes + staged.bytes,
    };
  }

  /** Delete the R2 objects under `prefix` stored before `before` that `keep` (given the rest of the key) does not keep. */
  async #sweep(
    prefix: string,
    before: number,
    keep: (rest: string) => boolean,
  ): Promise<{ count: number; bytes: number }> {
    let count = 0;
    let bytes = 0;
    let cursor: string | undefined;
    do {
      const page = await this.#bucket().list({ prefix, cursor });
      const doomed = page.objects.filter((o) => !keep(o.key.slice(prefix.length)) && o.uploaded.getTime() <= before);
      if (doomed.length > 0) await this.#bucket().delete(doomed.map((o) => o.key));
      count += doomed.length;
      bytes += doomed.reduce((n, o) => n + o.size, 0);
      cursor = page.truncated ? page.cursor : undefined;
    } while (cursor !== undefined);
    return { count, bytes };
  }

  /**
   * Delete the repository's blobs and every row (see RepositoryObject.destroy). The intent is
   * recorded first and an alarm set, so a deletion cut short finishes on its own.
   */
  async destroy(s: Settings): Promise<Outcome<Destroyed>> {
    this.#storage.kv.put(DESTROYING, s.scope);
    await this.#storage.setAlarm(Date.now() + RETRY_MS);
    try {
      return ok({ blobs_deleted: await this.#finishDestroy(s.scope), finished: true });
    } catch (cause) {
      console.error("deleting a repository's blobs failed; the alarm finishes it", cause);
      return ok({ blobs_deleted: 0, finished: false });
    }
  }

  /** The alarm's part: finish a deletion cut short, again later if R2 fails. Whether one was under way. */
  async finishDestroying(): Promise<boolean> {
    const destroying = this.#storage.kv.get<string>(DESTROYING);
    if (destroying === undefined) return false;
    await this.#finishDestroy(destroying).catch(async (cause) => {
      console.error("finishing a repository's deletion failed; retrying", cause);
      await this.#storage.setAlarm(Date.now() + RETRY_MS);
    });
    return true;
  }

  /** Remove every R2 object of `scope`, then every row and the alarm. Safe to repeat. */
  async #finishDestroy(scope: string): Promise<number> {
    let deleted = 0;
    // This lifetime's keys only (r2/blobs.ts repositoryPrefixes).
    for (const prefix of repositoryPrefixes(scope)) {
      let cursor: string | undefined;
      do {
        const page = await this.#bucket().list({ prefix, cursor });
        if (page.objects.length > 0) await this.#bucket().delete(page.objects.map((o) => o.key));
        deleted += page.objects.length;
        cursor = page.truncated ? page.cursor : undefined;
      } while (cursor !== undefined);
    }
    await this.#storage.deleteAlarm();
    await this.#storage.deleteAll();
    // deleteAll drops the tables too; a late request from an edge that has not yet seen the
    // deletion finds an empty repository rather than a missing table.
    migrate(this.#storage);
    return deleted;
  }

  // SQL: reads across every table, for the whole repository

  #counts(): Omit<Stats, "repository" | "open_release" | "active_release" | "dirty"> {
    const n = (q: string) => num(this.#sql.first(q)?.n);
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
  #blobPointers(): BlobPointer[] {
    const out: BlobPointer[] = [];
    for (const r of this.#sql.all("SELECT sha256, size FROM packages WHERE pack IS NULL"))
      out.push({ sha256: str(r.sha256), size: num(r.size), kind: "package" });
    // A pack is at least as long as the furthest package in it reaches (a collected package's
    // bytes stay in the pack until the pack's last package goes).
    for (const r of this.#sql.all(
      "SELECT pack, max(pack_offset + size) AS size FROM packages WHERE pack IS NOT NULL GROUP BY pack",
    ))
      out.push({ sha256: str(r.pack), size: num(r.size), kind: "pack" });
    for (const r of this.#sql.all("SELECT DISTINCT sha256, size FROM index_files WHERE storage = 'blob'"))
      out.push({ sha256: str(r.sha256), size: num(r.size), kind: "index" });
    // A one-chunk index's Packages.gz is its chunk's blob: count each blob once.
    for (const r of this.#sql.all(
      `SELECT DISTINCT gzip_sha256 AS sha256, gzip_size AS size FROM index_chunks
       WHERE gzip_sha256 NOT IN (SELECT sha256 FROM index_files WHERE storage = 'blob')`,
    ))
      out.push({ sha256: str(r.sha256), size: num(r.size), kind: "index" });
    for (const r of this.#sql.all(
      `SELECT release_sha256 AS h, release_size AS s FROM dists WHERE release_sha256 IS NOT NULL
       UNION SELECT inrelease_sha256, inrelease_size FROM dists WHERE inrelease_sha256 IS NOT NULL
       UNION SELECT release_gpg_sha256, release_gpg_size FROM dists WHERE release_gpg_sha256 IS NOT NULL`,
    ))
      out.push({ sha256: str(r.h), size: num(r.s), kind: "release" });
    return out;
  }
}
