/**
 * Each release's dists (the `dists` table): whether a dist differs from the parent release, the
 * Release text generated for it at which generation, and the Release, InRelease and Release.gpg
 * stored once it was signed. A change to a dist clears its generated text and its signatures.
 */
import { num, optNum, optStr, type Row, Sql, str } from "../sql.ts";

export interface StoredFile {
  sha256: string;
  size: number;
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

export class Dists {
  readonly #sql: Sql;

  constructor(storage: DurableObjectStorage) {
    this.#sql = new Sql(storage.sql);
  }

  dist(release: string, dist: string): DistRecord | null {
    const r = this.#sql.first("SELECT * FROM dists WHERE release_id = ? AND dist = ?", release, dist);
    return r === null ? null : toDist(r);
  }

  dists(release: string): DistRecord[] {
    return this.#sql.all("SELECT * FROM dists WHERE release_id = ? ORDER BY dist", release).map(toDist);
  }

  /** A change to a dist: it now differs from the parent, and any earlier signature no longer covers it. */
  touch(release: string, dist: string): void {
    this.#sql.run(
      `INSERT INTO dists (release_id, dist, changed) VALUES (?, ?, 1)
       ON CONFLICT (release_id, dist) DO UPDATE SET changed = 1, release_text = NULL, generated_generation = NULL,
         release_sha256 = NULL, release_size = NULL, inrelease_sha256 = NULL, inrelease_size = NULL,
         release_gpg_sha256 = NULL, release_gpg_size = NULL, signed_by = NULL, signed_at = NULL`,
      release,
      dist,
    );
  }

  setGenerated(release: string, dist: string, text: string, generation: number, at: number): void {
    this.#sql.run(
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
    this.#sql.run(
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

  /** A new release starts with its parent's dists, unchanged, their signed files shared. */
  copyRelease(from: string, to: string): void {
    this.#sql.run(
      `INSERT INTO dists (release_id, dist, changed, release_text, generated_generation, generated_at,
         release_sha256, release_size, inrelease_sha256, inrelease_size, release_gpg_sha256, release_gpg_size,
         signed_by, signed_at)
       SELECT ?, dist, 0, release_text, NULL, generated_at, release_sha256, release_size, inrelease_sha256,
         inrelease_size, release_gpg_sha256, release_gpg_size, signed_by, signed_at FROM dists WHERE release_id = ?`,
      to,
      from,
    );
  }

  deleteRelease(id: string): void {
    this.#sql.run("DELETE FROM dists WHERE release_id = ?", id);
  }
}

/**
 * Dists that differ from the parent and carry no valid signature yet: activation waits for them.
 * A signature by a key revoked since it was accepted no longer counts: the key signs nothing more.
 */
export function unsignedDists(dists: DistRecord[], revokedSigners: ReadonlySet<string>): string[] {
  return dists
    .filter((d) => d.changed && (d.inRelease === null || (d.signedBy !== null && revokedSigners.has(d.signedBy))))
    .map((d) => d.dist);
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
