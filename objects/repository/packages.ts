/**
 * The packages a repository holds (`packages`, `versions`): one row per `.deb` the Worker stored
 * and parsed, with its control fields rendered once into the two halves of its stanza (migration
 * 4), and the binding of each (name, version, architecture) to one content. Registering a package
 * applies the repository's admission rules: a version is bound to one content forever unless the
 * repository allows version reuse, and a pool file name belongs to one version (pool-paths.ts).
 */
import type { Control, ControlField } from "../../deb/control.ts";
import type { FileHashes } from "../../deb/hash.ts";
import { renderStanzaParts } from "../../deb/packages.ts";
import type { PackageSummary, RegisteredBatch, RegisteredPackage } from "../../schema/responses.ts";
import { err, type Outcome, ok, refused } from "./outcome.ts";
import { filenameClash } from "./pool-paths.ts";
import type { Settings } from "./settings.ts";
import { num, type Row, Sql, str } from "./sql.ts";

/** A package the Worker has stored and parsed: what registering it takes (an RPC argument). */
export interface UploadedPackage {
  control: Control;
  hashes: FileHashes;
  /** Set when the Worker stored the bytes in a batch's pack rather than at their own address. */
  packed?: { pack: string; offset: number };
}

/** One file of a batch upload: the name the client gave it, which refusals quote. */
export type BatchUpload = UploadedPackage & { file: string };

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

/** A package as read back: its control text stays in the table (only index generation reads it). */
export type StoredPackage = Omit<PackageRecord, "fields">;

/** What adding a package to a dist needs of it: identity, source (for the pool path) and size. */
export type PackageKey = Pick<PackageRecord, "sha256" | "name" | "version" | "architecture" | "source" | "size">;

export class Packages {
  readonly #storage: DurableObjectStorage;
  readonly #sql: Sql;

  constructor(storage: DurableObjectStorage) {
    this.#storage = storage;
    this.#sql = new Sql(storage.sql);
  }

  /** The package with this SHA-256, as clients see it, or null. */
  summary(sha256: string): PackageSummary | null {
    const p = this.package(sha256);
    return p === null ? null : summarizePackage(p);
  }

  /** Which of these hashes the repository holds: each one's package, or null. */
  find(sha256s: readonly string[]): Record<string, PackageSummary | null> {
    const held = this.heads(sha256s);
    const found: Record<string, PackageSummary | null> = {};
    for (const sha256 of sha256s) found[sha256] = held.get(sha256) ?? null;
    return found;
  }

  /** Why `register` would refuse this new content, or null: its version rules and its pool file name. */
  admissionRefusal(s: Settings, { control, hashes }: UploadedPackage): Outcome<never> | null {
    const conflict = this.versionConflict(s, control.package, control.version, control.architecture, hashes.sha256);
    if (conflict) return conflict;
    const clash = filenameClash(
      this.bindingsOf([control.package]),
      control.package,
      control.version,
      control.architecture,
    );
    return clash ? refused(clash) : null;
  }

  /** Record a package (idempotent for the same content), or refuse it by the admission rules. */
  register(s: Settings, upload: UploadedPackage): Outcome<RegisteredPackage> {
    const existing = this.package(upload.hashes.sha256);
    if (existing !== null) return ok({ package: summarizePackage(existing), created: false });
    const refusal = this.admissionRefusal(s, upload);
    if (refusal) return refusal;
    const record = packageRecord(upload, Date.now());
    this.#storage.transactionSync(() => this.#insert([record]));
    return ok({ package: summarizePackage(record), created: true });
  }

  /** Would `register` accept this package now? Asked before its bytes reach their address (worker/upload.ts). */
  check(s: Settings, upload: UploadedPackage): Outcome<null> {
    return this.admissionRefusal(s, upload) ?? ok(null);
  }

  /** Would `registerBatch` accept this batch now? The hashes the repository lacks: only those need storing. */
  checkBatch(s: Settings, uploads: BatchUpload[]): Outcome<{ missing: string[] }> {
    const plan = this.plan(s, uploads, Date.now());
    if (!plan.ok) return plan;
    return ok({ missing: plan.value.records.map((r) => r.sha256) });
  }

  /** Record a batch all or nothing, by `plan`'s rules; results in request order. */
  registerBatch(s: Settings, uploads: BatchUpload[]): Outcome<RegisteredBatch> {
    const plan = this.plan(s, uploads, Date.now());
    if (!plan.ok) return plan;
    const { records, packages } = plan.value;
    if (records.length > 0) this.#storage.transactionSync(() => this.#insert(records));
    return ok({ packages });
  }

  /**
   * The rows a batch would insert and what each upload would report, or the batch's refusal
   * naming the file. What the repository already holds is read for the whole batch up front, in a
   * few statements rather than a few per package. Two different files with the same (name,
   * version, architecture) are refused, since which one should be bound would depend on their
   * order in the request, and so are two versions of one pool file name.
   */
  plan(
    s: Settings,
    uploads: BatchUpload[],
    now: number,
  ): Outcome<{ records: PackageRecord[]; packages: RegisteredPackage[] }> {
    const known: Map<string, PackageSummary> = this.heads([...new Set(uploads.map((u) => u.hashes.sha256))]);
    const bindings = this.bindingsOf([...new Set(uploads.map((u) => u.control.package))]);
    const bound = new Map<string, string>();
    if (!s.mayReuseVersions) {
      for (const b of bindings) bound.set(`${b.name} ${b.version} ${b.architecture}`, b.sha256);
    }
    // Each version this batch binds holds its pool file name from then on, for the files after it.
    const named: { name: string; version: string; architecture: string }[] = [...bindings];
    const records: PackageRecord[] = [];
    const packages: RegisteredPackage[] = [];
    const versions = new Map<string, BatchUpload>();
    for (const upload of uploads) {
      const { control, hashes, file } = upload;
      const { package: name, version, architecture } = control;
      const key = `${name} ${version} ${architecture}`;
      const first = versions.get(key);
      if (first === undefined) versions.set(key, upload);
      else if (first.hashes.sha256 !== hashes.sha256) {
        return err(
          "invalid_request",
          `${first.file} and ${file} are both ${name} ${version} (${architecture}) but differ; a batch can bind a version to one content only`,
          { file, other_file: first.file, name, version, architecture },
        );
      }
      const held = known.get(hashes.sha256);
      if (held !== undefined) {
        packages.push({ package: held, created: false });
        continue;
      }
      const binding = bound.get(key);
      const conflict =
        binding === undefined ? null : this.versionConflict(s, name, version, architecture, hashes.sha256);
      const refusal = conflict?.ok === false ? conflict.error : filenameClash(named, name, version, architecture);
      if (refusal !== null) {
        return err(refusal.code, `${file}: ${refusal.message}`, { file, sha256: hashes.sha256, ...refusal.details });
      }
      named.push({ name, version, architecture });
      const record = packageRecord(upload, now);
      records.push(record);
      known.set(record.sha256, summarizePackage(record));
      packages.push({ package: summarizePackage(record), created: true });
    }
    return ok({ records, packages });
  }

  /** Refuse other content for a bound version, unless the repository allows version reuse. */
  versionConflict(
    s: Settings,
    name: string,
    version: string,
    architecture: string,
    sha256: string,
  ): Outcome<never> | null {
    if (s.mayReuseVersions) return null;
    const bound = this.#boundContent(name, version, architecture);
    if (bound === null || bound === sha256) return null;
    return err(
      "version_exists",
      `${name} ${version} (${architecture}) already exists with different content; bump the version (this repository does not allow version reuse)`,
      { name, version, architecture, existing_sha256: bound },
    );
  }

  /** Insert packages and bind their versions. Call inside a transaction. */
  #insert(records: PackageRecord[]): void {
    for (const r of records) {
      this.insertPackage(r);
      this.bindVersion(r.name, r.version, r.architecture, r.sha256, r.uploadedAt);
    }
  }

  // SQL

  package(sha256: string): StoredPackage | null {
    const r = this.#sql.first(`SELECT ${STORED_COLUMNS} FROM packages WHERE sha256 = ?`, sha256);
    return r === null ? null : toPackage(r);
  }

  /**
   * The identity and size of those of these packages the repository holds: what a batch upload
   * needs to know, without reading and parsing each one's control fields.
   */
  heads(sha256s: readonly string[]): Map<string, Omit<PackageKey, "source">> {
    return new Map([...this.keys(sha256s)].map(([sha256, { source: _, ...head }]) => [sha256, head]));
  }

  /** What adding these packages to a dist needs of each: identity, source (for the pool path) and size. */
  keys(sha256s: readonly string[]): Map<string, PackageKey> {
    const rows = this.#sql.allIn(
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

  /** Every version binding of these package names: a batch upload checks all of its own at once. */
  bindingsOf(names: readonly string[]): { name: string; version: string; architecture: string; sha256: string }[] {
    const rows = this.#sql.allIn(
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

  insertPackage(p: PackageRecord): void {
    const parts = renderStanzaParts(p);
    this.#sql.run(
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

  #boundContent(name: string, version: string, architecture: string): string | null {
    const r = this.#sql.first(
      "SELECT sha256 FROM versions WHERE name = ? AND version = ? AND architecture = ?",
      name,
      version,
      architecture,
    );
    return r === null ? null : str(r.sha256);
  }

  bindVersion(name: string, version: string, architecture: string, sha256: string, at: number): void {
    this.#sql.run(
      `INSERT INTO versions (name, version, architecture, sha256, bound_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (name, version, architecture) DO UPDATE SET sha256 = excluded.sha256, bound_at = excluded.bound_at`,
      name,
      version,
      architecture,
      sha256,
      at,
    );
  }

  /** Packages no release refers to any more and uploaded before `before` (a grace period for fresh uploads). */
  unreferenced(before: number): string[] {
    return this.#sql
      .all(
        `SELECT sha256 FROM packages p WHERE uploaded_at < ? AND NOT EXISTS (SELECT 1 FROM segment_members m WHERE m.sha256 = p.sha256)`,
        before,
      )
      .map((r) => str(r.sha256));
  }

  delete(sha256: string): void {
    this.#sql.run("DELETE FROM packages WHERE sha256 = ?", sha256);
  }
}

export function summarizePackage(p: StoredPackage): PackageSummary {
  return { sha256: p.sha256, name: p.name, version: p.version, architecture: p.architecture, size: p.size };
}

function packageRecord({ control, hashes, packed }: UploadedPackage, uploadedAt: number): PackageRecord {
  return {
    packed: packed ?? null,
    sha256: hashes.sha256,
    name: control.package,
    version: control.version,
    architecture: control.architecture,
    source: control.source,
    fields: control.fields,
    size: hashes.size,
    md5: hashes.md5,
    sha1: hashes.sha1,
    sha512: hashes.sha512,
    uploadedAt,
  };
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
const STORED_COLUMNS = STORED_PACKAGE.join(", ");
/** The same columns of `packages p`, for reads that join it. */
export const STORED_COLUMNS_OF_P = STORED_PACKAGE.map((c) => `p.${c}`).join(", ");

export function toPackage(r: Row): StoredPackage {
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
