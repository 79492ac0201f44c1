/**
 * apt's side (DESIGN.md §5): which blob answers a path under the repository root, as a release
 * serves it. dists files come from that release; by-hash files and pool files from any release
 * still within retention; a snapshot timestamp names the release the edge served at that instant
 * (the activation log). The Worker streams the bytes from R2 and caches the answer.
 */
import type { BlobPart } from "../../r2/blobs.ts";
import { err, type Outcome, ok } from "./outcome.ts";
import { STORED_COLUMNS_OF_P, type StoredPackage, toPackage } from "./packages.ts";
import type { Activation } from "./publishing/activation.ts";
import type { Dists } from "./publishing/dists.ts";
import { type Indexes, type IndexFileRecord, toIndexFile } from "./publishing/indexes.ts";
import { isRetained, RETAINED, type Releases } from "./releases.ts";
import type { Settings } from "./settings.ts";
import { Sql } from "./sql.ts";

/** A file apt can fetch: which blob, and what the Worker needs for its headers. */
export interface FileRef {
  sha256: string;
  size: number;
  /**
   * Where the bytes are when not in the one blob at `sha256`, served back to back: a large index's
   * Packages.gz (its chunks), or a package from a batch upload (its range of the batch's pack).
   */
  parts?: BlobPart[];
  lastModified: number;
  /** Immutable by content (by-hash, pool without version reuse); dists files change with the active release. */
  immutable: boolean;
}

export class Serving {
  readonly #sql: Sql;
  readonly #releases: Releases;
  readonly #indexes: Indexes;
  readonly #dists: Dists;
  readonly #activation: Activation;

  constructor(
    storage: DurableObjectStorage,
    parts: { releases: Releases; indexes: Indexes; dists: Dists; activation: Activation },
  ) {
    this.#sql = new Sql(storage.sql);
    this.#releases = parts.releases;
    this.#indexes = parts.indexes;
    this.#dists = parts.dists;
    this.#activation = parts.activation;
  }

  /**
   * Resolve a path under the repository root, as served by `release`, to the blob holding it.
   * `path` has been split and checked by the Worker (no empty, "." or ".." segments).
   */
  resolve(s: Settings, release: string, path: string): FileRef | null {
    const r = this.#releases.get(release);
    const retainedAfter = Date.now() - s.retentionSeconds * 1000;
    if (r === null || !isRetained(r, retainedAfter)) return null;
    const parts = path.split("/");
    if (parts[0] === "pool") {
      const p = this.#poolFile(path, r.id, retainedAfter);
      if (p === null) return null;
      const file = { sha256: p.sha256, size: p.size, lastModified: p.uploadedAt, immutable: !s.mayReuseVersions };
      // A package from a batch upload is a range of its batch's pack.
      return p.packed === null
        ? file
        : { ...file, parts: [{ sha256: p.packed.pack, size: p.size, offset: p.packed.offset }] };
    }
    const [top, dist, ...rest] = parts;
    if (top !== "dists" || dist === undefined || rest.length === 0) return null;
    const file = rest.join("/");
    if (rest.length === 1) {
      const d = this.#dists.dist(r.id, dist);
      const signed =
        file === "InRelease"
          ? d?.inRelease
          : file === "Release"
            ? d?.release
            : file === "Release.gpg"
              ? d?.releaseGpg
              : undefined;
      // Last-Modified of a dists file is when its release was activated: a re-activated (rolled
      // back) release is newer than the one it replaces, so caches revalidating with
      // If-Modified-Since fetch it instead of answering 304.
      if (signed) return { ...signed, lastModified: r.activatedAt ?? d?.signedAt ?? 0, immutable: false };
    }
    // {component}/binary-{arch}/by-hash/{algorithm}/{hex}, the component one segment or more (stable/v17).
    if (rest.length >= 5 && rest.at(-3) === "by-hash") {
      const directory = rest.slice(0, -3).join("/");
      const [algorithm, hex] = rest.slice(-2);
      const column =
        algorithm === "SHA256" ? "sha256" : algorithm === "SHA512" ? "sha512" : algorithm === "MD5Sum" ? "md5" : null;
      if (column === null || hex === undefined) return null;
      const f = this.#byHash(dist, directory, column, hex.toLowerCase(), retainedAfter);
      return f === null
        ? null
        : { sha256: f.sha256, size: f.size, lastModified: f.generatedAt, immutable: true, ...this.#parts(dist, f) };
    }
    const f = this.#indexes.indexFile(r.id, dist, file);
    return f === null
      ? null
      : {
          sha256: f.sha256,
          size: f.size,
          lastModified: r.activatedAt ?? f.generatedAt,
          immutable: false,
          ...this.#parts(dist, f),
        };
  }

  /** The release that was active at `at` (ms since the epoch), per the activation log. */
  releaseAt(s: Settings, at: number): Outcome<string> {
    const id = this.#activation.visibleAt(at);
    const when = new Date(at).toISOString();
    if (id === null) return err("snapshot_not_found", `no release of this repository was active at ${when}`);
    const r = this.#releases.get(id);
    if (r === null || !isRetained(r, Date.now() - s.retentionSeconds * 1000)) {
      return err("release_expired", `the release active at ${when} is past this repository's retention`);
    }
    return ok(id);
  }

  /** The blobs an index file kept as chunks is served from, in order. */
  #parts(dist: string, f: IndexFileRecord): { parts?: BlobPart[] } {
    if (f.storage !== "chunks" || f.release === undefined) return {};
    const chunks = this.#indexes.chunks(f.release, dist, f.component, f.architecture);
    return { parts: chunks.map((c) => ({ sha256: c.gzipSha256, size: c.gzipSize })) };
  }

  // by-hash and pool look across every release still within retention

  #byHash(
    dist: string,
    directory: string,
    column: "md5" | "sha256" | "sha512",
    hex: string,
    retainedAfter: number,
  ): IndexFileRecord | null {
    const r = this.#sql.first(
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
  #poolFile(path: string, preferRelease: string, retainedAfter: number): StoredPackage | null {
    const r = this.#sql.first(
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
}
