/**
 * Each release's Packages indexes (`indexes`, `index_chunks`, `index_files`): per (dist,
 * component, architecture) a dirty flag, its chunks (migration 2: key ranges of about a MiB of
 * stanzas, each one gzip member in R2, with a dirty counter) and the Packages files a Release
 * lists. A change dirties only the chunk whose key range holds it (`markDirty`); generate.ts
 * re-renders only dirty chunks and records the result (`saveScope`).
 */
import { coveringIndex, groupBy, type IndexKey } from "../index-keys.ts";
import type { MemberRecord } from "../segments.ts";
import { num, type Row, Sql, str } from "../sql.ts";

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

export class Indexes {
  readonly #sql: Sql;

  constructor(storage: DurableObjectStorage) {
    this.#sql = new Sql(storage.sql);
  }

  /**
   * Mark what changed members touch: their indexes (every index of the component for `all`
   * packages), and in each index the chunk whose key range holds them, bumped once per change.
   * Chunks are found here rather than by a statement per member: ingest adds thousands at once.
   */
  markDirty(release: string, changed: readonly MemberRecord[]): void {
    const byComponent = groupBy(changed, (m) => `${m.dist}\0${m.component}`);
    for (const group of byComponent.values()) {
      const { dist, component } = group[0] as MemberRecord;
      for (const arch of new Set(group.map((m) => m.architecture)))
        this.#markScopeDirty(release, dist, component, arch);
      const byArch = groupBy(this.#chunkStarts(release, dist, component), (c) => c.architecture);
      const starts = [...byArch].map(([arch, chunks]) => ({ arch, starts: chunks.map((c) => c.start) }));
      for (const m of group) {
        const key: IndexKey = [m.name, m.version, m.architecture];
        for (const { arch, starts: keys } of starts) {
          if (m.architecture !== "all" && m.architecture !== arch) continue;
          const start = keys[coveringIndex(keys, key)];
          if (start !== undefined) this.#bumpChunk(release, dist, component, arch, start);
        }
      }
    }
  }

  /** The indexes of a release's dists that the next generate rebuilds, as `dist/component/binary-arch`. */
  dirtyScopes(release: string, dists: readonly string[]): string[] {
    return dists.flatMap((dist) =>
      this.scopes(release, dist)
        .filter((x) => x.dirty)
        .map((x) => `${dist}/${x.component}/binary-${x.architecture}`),
    );
  }

  /** Mark indexes dirty: one architecture's, or, for `all` packages, every index of the component. */
  #markScopeDirty(release: string, dist: string, component: string, architecture: string): void {
    if (architecture === "all") {
      this.#sql.run(
        "UPDATE indexes SET dirty = 1 WHERE release_id = ? AND dist = ? AND component = ?",
        release,
        dist,
        component,
      );
      return;
    }
    this.#sql.run(
      `INSERT INTO indexes (release_id, dist, component, architecture, dirty) VALUES (?, ?, ?, ?, 1)
       ON CONFLICT (release_id, dist, component, architecture) DO UPDATE SET dirty = 1`,
      release,
      dist,
      component,
      architecture,
    );
  }

  /** The chunk start keys of every index of a component, each index's in key order. */
  #chunkStarts(release: string, dist: string, component: string): { architecture: string; start: IndexKey }[] {
    return this.#sql
      .all(
        `SELECT architecture, start_name, start_version, start_architecture FROM index_chunks
         WHERE release_id = ? AND dist = ? AND component = ?
         ORDER BY architecture, start_name, start_version, start_architecture`,
        release,
        dist,
        component,
      )
      .map((r) => ({
        architecture: str(r.architecture),
        start: [str(r.start_name), str(r.start_version), str(r.start_architecture)] as const,
      }));
  }

  /** Count a change against one chunk (see ChunkRecord.dirty). */
  #bumpChunk(release: string, dist: string, component: string, architecture: string, start: IndexKey): void {
    this.#sql.run(
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
    this.#sql.run("UPDATE indexes SET dirty = 1 WHERE release_id = ?", release);
    this.#sql.run("UPDATE index_chunks SET dirty = dirty + 1 WHERE release_id = ?", release);
  }

  scopes(release: string, dist: string): ScopeRecord[] {
    return this.#sql
      .all("SELECT component, architecture, dirty FROM indexes WHERE release_id = ? AND dist = ?", release, dist)
      .map((r) => ({ component: str(r.component), architecture: str(r.architecture), dirty: num(r.dirty) === 1 }));
  }

  deleteScope(release: string, dist: string, component: string, architecture: string): void {
    for (const table of ["indexes", "index_files", "index_chunks"]) {
      this.#sql.run(
        `DELETE FROM ${table} WHERE release_id = ? AND dist = ? AND component = ? AND architecture = ?`,
        release,
        dist,
        component,
        architecture,
      );
    }
  }

  /** The chunks of one index, in key order. */
  chunks(release: string, dist: string, component: string, architecture: string): ChunkRecord[] {
    return this.#sql
      .all(
        `SELECT * FROM index_chunks WHERE release_id = ? AND dist = ? AND component = ? AND architecture = ?
         ORDER BY start_name, start_version, start_architecture`,
        release,
        dist,
        component,
        architecture,
      )
      .map((r) => ({
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
    this.#sql.run(
      "INSERT INTO indexes (release_id, dist, component, architecture, dirty) VALUES (?, ?, ?, ?, ?)",
      release,
      dist,
      component,
      architecture,
      stillDirty ? 1 : 0,
    );
    for (const c of chunks) {
      this.#sql.run(
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
      this.#sql.run(
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
    return this.#sql
      .all("SELECT * FROM index_files WHERE release_id = ? AND dist = ? ORDER BY path", release, dist)
      .map(toIndexFile);
  }

  indexFile(release: string, dist: string, path: string): IndexFileRecord | null {
    const r = this.#sql.first(
      "SELECT * FROM index_files WHERE release_id = ? AND dist = ? AND path = ? AND storage != 'listed'",
      release,
      dist,
      path,
    );
    return r === null ? null : toIndexFile(r);
  }

  /** A new release starts with its parent's indexes: their rows are copied, their blobs shared. */
  copyRelease(from: string, to: string): void {
    this.#sql.run(
      `INSERT INTO indexes (release_id, dist, component, architecture, dirty)
       SELECT ?, dist, component, architecture, dirty FROM indexes WHERE release_id = ?`,
      to,
      from,
    );
    this.#sql.run(
      `INSERT INTO index_files (release_id, dist, path, component, architecture, size, md5, sha256, sha512, generated_at,
         storage)
       SELECT ?, dist, path, component, architecture, size, md5, sha256, sha512, generated_at, storage
       FROM index_files WHERE release_id = ?`,
      to,
      from,
    );
    this.#sql.run(
      `INSERT INTO index_chunks (release_id, dist, component, architecture, start_name, start_version,
         start_architecture, stanzas, plain_size, gzip_sha256, gzip_size, dirty)
       SELECT ?, dist, component, architecture, start_name, start_version, start_architecture, stanzas, plain_size,
         gzip_sha256, gzip_size, dirty FROM index_chunks WHERE release_id = ?`,
      to,
      from,
    );
  }

  deleteRelease(id: string): void {
    for (const table of ["indexes", "index_files", "index_chunks"]) {
      this.#sql.run(`DELETE FROM ${table} WHERE release_id = ?`, id);
    }
  }
}

export function toIndexFile(r: Row): IndexFileRecord {
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
