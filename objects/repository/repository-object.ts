/**
 * RepositoryObject: one Durable Object per repository (`idFromName("owner/name")`), SQLite storage.
 * Being the single writer of its repository is the lock: package changes are synchronous
 * transactions; generate, submit and activate take turns through one in-object lock. They await
 * R2 and D1, and uploads may land meanwhile, so each re-checks the release's generation before it
 * commits what it computed (DESIGN.md §2–§4). (`blockConcurrencyWhile` would also keep uploads
 * out, but it resets the object after 30 s, and local workerd never finishes an R2 get-then-put
 * inside it, which composing a Packages.gz from its chunks does.)
 *
 * Public methods are the RPC surface the Worker calls; each returns plain data or an `ApiError`
 * value. Arguments were validated at the edge (schema/api.ts); the object re-checks what only it
 * can know (does the release exist, is it open, is the generation current).
 */
import { DurableObject } from "cloudflare:workers";
import { setActiveRelease } from "../../d1/statements.ts";
import type { Control } from "../../deb/control.ts";
import { type FileHashes, toHex } from "../../deb/hash.ts";
import { isValidComponent, poolPath } from "../../deb/pool.ts";
import { renderRelease } from "../../deb/release.ts";
import { buildKeyring, readKeySubmission } from "../../pgp/keys.ts";
import { verifyReleaseSignatures } from "../../pgp/release-signatures.ts";
import {
  type BlobPart,
  blobKey,
  blobPrefix,
  putBytes,
  repositoryPrefixes,
  repositoryScope,
  stagingPrefix,
} from "../../r2/blobs.ts";
import { type ApiError, apiError } from "../../schema/errors.ts";
import {
  INDEX_DOCUMENT_FORMAT,
  type SignedIndexDocument,
  type UnsignedIndexDocument,
} from "../../schema/index-document.ts";
import type {
  ActivatedRelease,
  ActivationLog,
  AddedPackages,
  Collected,
  Destroyed,
  DiscardedRelease,
  Fsck,
  KeyList,
  KeySummary,
  MemberSummary,
  PackageList,
  PackageSummary,
  RegisteredBatch,
  RegisteredPackage,
  Reindexed,
  ReleaseDetail,
  ReleaseDiff,
  ReleaseList,
  ReleaseSummary,
  RemovedKey,
  RemovedPackages,
  RepositorySettings,
  Stats,
  Submitted,
} from "../../schema/responses.ts";
import type { Result } from "../../schema/result.ts";
import { CHUNK_BYTES, IndexHasher, type WrittenChunk, writeChunks } from "./index-writer.ts";
import { coveringIndex, groupBy } from "./keys.ts";
import { Membership } from "./membership.ts";
import { migrate } from "./migrations.ts";
import { filenameClash, poolPathsTaken, poolPathTaken } from "./pool-paths.ts";
import {
  type DistRecord,
  FIRST_KEY,
  type IndexFileRecord,
  type IndexKey,
  type IndexRow,
  type KeyRecord,
  type MemberRecord,
  type PackageRecord,
  Queries,
  type ReleaseRecord,
  type Settings,
  type StoredPackage,
} from "./queries.ts";

type Outcome<T> = Result<T, ApiError>;
const ok = <T>(value: T): Outcome<T> => ({ ok: true, value });
const err = (code: ApiError["code"], message: string, details?: Record<string, unknown>): Outcome<never> => ({
  ok: false,
  error: apiError(code, message, details),
});

/**
 * Rows per page when streaming a Packages index out of SQLite: about 0.7 MiB of stanzas. Each page
 * is a query that seeks from the segment holding the last key; at 500 rows a full generate of
 * 63,000 spent a tenth of its time starting queries.
 */
const INDEX_PAGE_ROWS = 1000;
/** When the key set last changed (ms), at least a second after the change before it. */
const KEYS_CHANGED_AT = "keys_changed_at";
/** The highest sequence number a discarded release had: new release ids start above it. */
const RELEASE_SEQ_FLOOR = "release_seq_floor";
/** Set (to the repository's scope) while the object deletes itself: the alarm finishes it. */
const DESTROYING = "destroying";
/** Retry delay for an activation whose D1 pointer write failed, or a deletion cut short. */
const SYNC_RETRY_MS = 5_000;
const LIST_LIMIT = 1000;
/** Attempts at a consistent generate while uploads keep changing the release. */
const GENERATE_ATTEMPTS = 5;

export interface RepositoryConfig {
  id: string;
  /** The creation id D1 holds for this lifetime of the repository (r2/blobs.ts). */
  uid: string | null;
  mayReuseVersions: boolean;
  retentionSeconds: number;
  /** Absolute URL of the repository root, for the Release `Snapshots:` field. */
  baseUrl: string;
}

export interface UploadedPackage {
  control: Control;
  hashes: FileHashes;
  /** Set when the Worker stored the bytes in a batch's pack rather than at their own address. */
  packed?: { pack: string; offset: number };
}

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

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

function summarizeRelease(r: ReleaseRecord): ReleaseSummary {
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

function summarizePackage(p: StoredPackage): PackageSummary {
  return { sha256: p.sha256, name: p.name, version: p.version, architecture: p.architecture, size: p.size };
}

function summarizeMember(m: MemberRecord, size: number): MemberSummary {
  return {
    sha256: m.sha256,
    name: m.name,
    version: m.version,
    architecture: m.architecture,
    size,
    dist: m.dist,
    component: m.component,
    filename: m.poolPath,
  };
}

export class RepositoryObject extends DurableObject<Env> {
  readonly #q: Queries;
  readonly #membership: Membership;
  #turn: Promise<void> = Promise.resolve();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#q = new Queries(ctx.storage.sql);
    this.#membership = new Membership(this.#q);
    void ctx.blockConcurrencyWhile(async () => {
      migrate(ctx.storage);
      await this.#resumePointer();
    });
  }

  /**
   * An activation this object committed but D1 never confirmed must have a pointer write coming:
   * one left by an object that died before it could record the retry (code older than
   * `#publishPointer`), or whose alarm was lost, gets one now.
   */
  async #resumePointer(): Promise<void> {
    if (this.#q.settings() === null || this.#q.pendingActivations() === 0) return;
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now());
  }

  // configuration

  /** Create or update the repository's settings (called by the admin API when it creates the repository). */
  async configure(config: RepositoryConfig): Promise<Outcome<RepositoryConfig>> {
    const current = this.#q.settings();
    // The object is named by (id, uid): another repository, or another lifetime of this one, here is a bug.
    if (current !== null && (current.id !== config.id || current.uid !== config.uid)) {
      throw new Error(`object for ${current.scope} asked to configure ${repositoryScope(config.id, config.uid)}`);
    }
    const [owner = config.id, name = config.id] = config.id.split("/");
    this.#q.saveSettings({
      id: config.id,
      uid: config.uid,
      mayReuseVersions: config.mayReuseVersions,
      retentionSeconds: config.retentionSeconds,
      baseUrl: config.baseUrl.replace(/\/+$/, ""),
      origin: current?.origin ?? owner,
      label: current?.label ?? name,
      createdAt: current?.createdAt ?? Date.now(),
    });
    return ok(config);
  }

  /** The repository's settings, as clients need them (`armor repo setup`). */
  async info(): Promise<Outcome<RepositorySettings>> {
    const s = this.#settings();
    if (!s.ok) return s;
    return ok({
      id: s.value.id,
      base_url: s.value.baseUrl,
      may_reuse_versions: s.value.mayReuseVersions,
      retention_days: s.value.retentionSeconds / 86_400,
    });
  }

  /**
   * Delete the repository's blobs and every row of this object (the admin API has already removed
   * it from D1, so the edge no longer routes to it). The intent is recorded first and an alarm set,
   * so a deletion cut short (an R2 failure, a crash) finishes on its own: nothing of a deleted
   * repository stays stored. Its successor under the same id is another object with other R2 keys
   * (r2/blobs.ts repositoryScope), so what is not yet removed is never reachable from it.
   */
  async destroy(): Promise<Outcome<Destroyed>> {
    // After any activation or pointer retry under way: none of them may write a pointer afterwards.
    return this.#exclusive(() => this.#destroy());
  }

  async #destroy(): Promise<Outcome<Destroyed>> {
    const s = this.#settings();
    if (!s.ok) return s;
    this.ctx.storage.kv.put(DESTROYING, s.value.scope);
    await this.ctx.storage.setAlarm(Date.now() + SYNC_RETRY_MS);
    try {
      return ok({ blobs_deleted: await this.#finishDestroy(s.value.scope), finished: true });
    } catch (cause) {
      console.error("deleting a repository's blobs failed; the alarm finishes it", cause);
      return ok({ blobs_deleted: 0, finished: false });
    }
  }

  /** Remove every R2 object of `scope`, then every row and the alarm. Safe to repeat. */
  async #finishDestroy(scope: string): Promise<number> {
    let deleted = 0;
    // This lifetime's keys only (r2/blobs.ts repositoryPrefixes).
    for (const prefix of repositoryPrefixes(scope)) {
      let cursor: string | undefined;
      do {
        const page = await this.env.BLOBS.list({ prefix, cursor });
        if (page.objects.length > 0) await this.env.BLOBS.delete(page.objects.map((o) => o.key));
        deleted += page.objects.length;
        cursor = page.truncated ? page.cursor : undefined;
      } while (cursor !== undefined);
    }
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
    // deleteAll drops the tables too; a late request from an edge that has not yet seen the
    // deletion finds an empty repository rather than a missing table.
    migrate(this.ctx.storage);
    return deleted;
  }

  // packages

  /** Whether this repository already holds a package with this SHA-256 (clients skip the upload). */
  async hasPackage(sha256: string): Promise<Outcome<PackageSummary | null>> {
    const s = this.#settings();
    if (!s.ok) return s;
    const p = this.#q.package(sha256);
    return ok(p === null ? null : summarizePackage(p));
  }

  /**
   * Would `registerPackage` accept this upload now? The Worker asks after parsing an upload and
   * before its bytes reach their content address, so a refused version writes nothing
   * (worker/upload.ts). The same content as the bound one, or version reuse, is accepted.
   */
  async checkPackage(upload: UploadedPackage): Promise<Outcome<null>> {
    const s = this.#settings();
    if (!s.ok) return s;
    return this.#admissionRefusal(s.value, upload) ?? ok(null);
  }

  /** Why `registerPackage` would refuse this new content, or null: its version rules and its pool file name. */
  #admissionRefusal(s: Settings, { control, hashes }: UploadedPackage): Outcome<never> | null {
    const conflict = this.#versionConflict(s, control.package, control.version, control.architecture, hashes.sha256);
    if (conflict) return conflict;
    const clash = filenameClash(
      this.#q.bindingsOf([control.package]),
      control.package,
      control.version,
      control.architecture,
    );
    return clash ? { ok: false, error: clash } : null;
  }

  /**
   * Record a package whose bytes the Worker has stored and parsed. A (name, version, architecture)
   * is bound to one content forever unless the repository allows version reuse; the same content
   * again is an idempotent success. A pool file name belongs to one version (pool-paths.ts).
   */
  async registerPackage(upload: UploadedPackage): Promise<Outcome<RegisteredPackage>> {
    const s = this.#settings();
    if (!s.ok) return s;
    const { hashes } = upload;
    const existing = this.#q.package(hashes.sha256);
    if (existing !== null) return ok({ package: summarizePackage(existing), created: false });
    const refusal = this.#admissionRefusal(s.value, upload);
    if (refusal) return refusal;
    const record = this.#packageRecord(upload, Date.now());
    this.ctx.storage.transactionSync(() => this.#insertPackages([record]));
    return ok({ package: summarizePackage(record), created: true });
  }

  /**
   * Which of these hashes this repository holds: the batch form of `hasPackage`, so a client can
   * skip every file the repository already has with one request.
   */
  async findPackages(sha256s: string[]): Promise<Outcome<Record<string, PackageSummary | null>>> {
    const s = this.#settings();
    if (!s.ok) return s;
    const held = this.#q.packageHeads(sha256s);
    const found: Record<string, PackageSummary | null> = {};
    for (const sha256 of sha256s) found[sha256] = held.get(sha256) ?? null;
    return ok(found);
  }

  /**
   * Would `registerPackages` accept this batch now? The Worker asks before it writes anything to R2,
   * so a batch refused for a version conflict costs no writes and leaves nothing to clean up.
   * Returns the hashes the repository does not have yet: only those need storing.
   */
  async checkPackages(uploads: (UploadedPackage & { file: string })[]): Promise<Outcome<{ missing: string[] }>> {
    const s = this.#settings();
    if (!s.ok) return s;
    const plan = this.#planBatch(s.value, uploads, Date.now());
    if (!plan.ok) return plan;
    return ok({ missing: plan.value.records.map((r) => r.sha256) });
  }

  /**
   * Record a batch of packages whose bytes the Worker has stored and parsed: all or nothing, in
   * one transaction. The rules are `registerPackage`'s, applied in order, plus one of the batch's
   * own: two different files with the same (name, version, architecture) are refused, since
   * which one should be bound would depend on their order in the request, and so are two
   * versions of one pool file name. The same content twice is fine; the later copy reports
   * `created: false`. Results are in request order.
   */
  async registerPackages(uploads: (UploadedPackage & { file: string })[]): Promise<Outcome<RegisteredBatch>> {
    const s = this.#settings();
    if (!s.ok) return s;
    const plan = this.#planBatch(s.value, uploads, Date.now());
    if (!plan.ok) return plan;
    const { records, packages } = plan.value;
    if (records.length > 0) this.ctx.storage.transactionSync(() => this.#insertPackages(records));
    return ok({ packages });
  }

  /**
   * The rows a batch would insert and what each upload would report, or the batch's refusal
   * naming the file. What the repository already holds is read for the whole batch up front, in a
   * few statements rather than a few per package.
   */
  #planBatch(
    s: Settings,
    uploads: (UploadedPackage & { file: string })[],
    now: number,
  ): Outcome<{ records: PackageRecord[]; packages: RegisteredPackage[] }> {
    const known: Map<string, PackageSummary> = this.#q.packageHeads([...new Set(uploads.map((u) => u.hashes.sha256))]);
    const bindings = this.#q.bindingsOf([...new Set(uploads.map((u) => u.control.package))]);
    const bound = new Map<string, string>();
    if (!s.mayReuseVersions) {
      for (const b of bindings) bound.set(`${b.name} ${b.version} ${b.architecture}`, b.sha256);
    }
    // Each version this batch binds holds its pool file name from then on, for the files after it.
    const named: { name: string; version: string; architecture: string }[] = [...bindings];
    const records: PackageRecord[] = [];
    const packages: RegisteredPackage[] = [];
    const versions = new Map<string, UploadedPackage & { file: string }>();
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
        binding === undefined ? null : this.#versionConflict(s, name, version, architecture, hashes.sha256);
      const refusal = conflict?.ok === false ? conflict.error : filenameClash(named, name, version, architecture);
      if (refusal !== null) {
        return err(refusal.code, `${file}: ${refusal.message}`, { file, sha256: hashes.sha256, ...refusal.details });
      }
      named.push({ name, version, architecture });
      const record = this.#packageRecord(upload, now);
      records.push(record);
      known.set(record.sha256, summarizePackage(record));
      packages.push({ package: summarizePackage(record), created: true });
    }
    return ok({ records, packages });
  }

  #packageRecord({ control, hashes, packed }: UploadedPackage, uploadedAt: number): PackageRecord {
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

  /** Insert packages and bind their versions. Call inside a transaction. */
  #insertPackages(records: PackageRecord[]): void {
    for (const r of records) {
      this.#q.insertPackage(r);
      this.#q.bindVersion(r.name, r.version, r.architecture, r.sha256, r.uploadedAt);
    }
  }

  /**
   * Add uploaded packages to a dist and component of the open release, opening one from the active
   * release if there is none. All or nothing; packages already there are reported unchanged, and a
   * request that changes nothing opens no release.
   */
  async addPackages(input: {
    release: string | null;
    dist: string;
    component: string;
    packages: string[];
  }): Promise<Outcome<AddedPackages>> {
    const s = this.#settings();
    if (!s.ok) return s;
    const target = this.#mutable(input.release);
    if (target) return target;
    if (!isValidComponent(input.component)) {
      return err("invalid_request", `"${input.component}" is not a valid component name (e.g. main or stable/v17)`);
    }
    // Read in a few statements per thousand packages, never a few per package (ingest adds tens of thousands).
    const wanted = [...new Set(input.packages)];
    const held = this.#q.packageKeys(wanted);
    const records = wanted.flatMap((sha) => held.get(sha) ?? []);
    const missing = wanted.filter((sha) => !held.has(sha));
    if (missing.length > 0) {
      return err(
        "package_not_found",
        `${missing.length} package(s) are not uploaded to this repository; upload them first`,
        {
          missing,
        },
      );
    }
    const names = [...new Set(records.map((p) => p.name))];
    const bound = new Map<string, string>(
      s.value.mayReuseVersions
        ? []
        : this.#q.bindingsOf(names).map((b) => [`${b.name} ${b.version} ${b.architecture}`, b.sha256]),
    );
    const seen = new Map<string, string>();
    const paths = new Map<string, MemberRecord>();
    const members: MemberRecord[] = [];
    for (const p of records) {
      const key = `${p.name} ${p.version} ${p.architecture}`;
      const other = seen.get(key);
      if (other !== undefined) {
        return err("invalid_request", `two files in this request are ${key}: ${other} and ${p.sha256}`);
      }
      seen.set(key, p.sha256);
      const binding = bound.get(key);
      const conflict =
        binding === undefined || binding === p.sha256
          ? null
          : this.#versionConflict(s.value, p.name, p.version, p.architecture, p.sha256);
      if (conflict) return conflict;
      const path = poolPath(input.component, {
        package: p.name,
        version: p.version,
        architecture: p.architecture,
        source: p.source,
      });
      if (!path.ok) return err("invalid_request", path.error.message);
      const member: MemberRecord = {
        dist: input.dist,
        component: input.component,
        name: p.name,
        version: p.version,
        architecture: p.architecture,
        sha256: p.sha256,
        poolPath: path.value,
      };
      const sharing = paths.get(member.poolPath);
      if (sharing !== undefined) return { ok: false, error: poolPathTaken(member, sharing, "in this request") };
      paths.set(member.poolPath, member);
      members.push(member);
    }
    const sizes = new Map(records.map((p) => [p.sha256, p.size]));
    const summary = (m: MemberRecord) => summarizeMember(m, sizes.get(m.sha256) ?? 0);

    const base = this.#q.releaseInState("open") ?? this.#q.releaseInState("active");
    const taken = poolPathsTaken(this.#q, s.value, base, members);
    if (taken) return { ok: false, error: taken };
    const inBaseNow =
      base === null ? new Map<string, string>() : this.#q.membersNamed(base.id, input.dist, input.component, names);
    const inBase = (m: MemberRecord) => inBaseNow.get(`${m.name} ${m.version} ${m.architecture}`) === m.sha256;
    const changes = members.filter((m) => !inBase(m));
    const unchanged = members.filter(inBase).map(summary);
    if (changes.length === 0) {
      return ok({ release: base?.id ?? "", generation: base?.generation ?? 0, added: [], unchanged });
    }
    const release = this.ctx.storage.transactionSync(() => {
      const open = this.#openRelease();
      this.#membership.put(open.id, changes);
      this.#markDirty(open.id, changes);
      this.#q.touchDist(open.id, input.dist);
      return { id: open.id, generation: this.#q.bumpGeneration(open.id) };
    });
    return ok({ release: release.id, generation: release.generation, added: changes.map(summary), unchanged });
  }

  /** Remove packages from a dist of the open release (opened from the active one if none). */
  async removePackages(input: {
    release: string | null;
    dist: string;
    component: string | null;
    name: string;
    version: string | null;
    architecture: string | null;
  }): Promise<Outcome<RemovedPackages>> {
    const s = this.#settings();
    if (!s.ok) return s;
    const target = this.#mutable(input.release);
    if (target) return target;
    const base = this.#q.releaseInState("open") ?? this.#q.releaseInState("active");
    const matches = base === null ? [] : this.#q.matchingMembers(base.id, input.dist, input);
    if (matches.length === 0) {
      const what = [input.name, input.version, input.architecture].filter((x) => x !== null).join(" ");
      return err("package_not_found", `no package matching "${what}" in dist ${input.dist}`);
    }
    const release = this.ctx.storage.transactionSync(() => {
      const open = this.#openRelease();
      this.#membership.remove(open.id, matches);
      this.#markDirty(open.id, matches);
      this.#q.touchDist(open.id, input.dist);
      return { id: open.id, generation: this.#q.bumpGeneration(open.id) };
    });
    const removed = matches.map((m) => summarizeMember(m, this.#q.package(m.sha256)?.size ?? 0));
    return ok({ release: release.id, generation: release.generation, removed });
  }

  /** List packages of a release (default: the open one, else the active one), filtered. */
  async listPackages(filter: {
    release: string | null;
    dist: string | null;
    component: string | null;
    architecture: string | null;
    name: string | null;
  }): Promise<Outcome<PackageList>> {
    const s = this.#settings();
    if (!s.ok) return s;
    const release =
      filter.release === null
        ? (this.#q.releaseInState("open") ?? this.#q.releaseInState("active"))
        : this.#q.release(filter.release);
    if (release === null) {
      if (filter.release !== null) return err("release_not_found", `no release ${filter.release} in this repository`);
      return ok({ release: null, packages: [], truncated: false });
    }
    const rows = this.#q.listMembers(release.id, filter, LIST_LIMIT + 1);
    const packages = rows.slice(0, LIST_LIMIT).map((m) => summarizeMember(m, this.#q.package(m.sha256)?.size ?? 0));
    return ok({ release: release.id, packages, truncated: rows.length > LIST_LIMIT });
  }

  // releases

  /** Open a new release, empty or from another release (copy-on-write membership). At most one is open. */
  async createRelease(input: { from: string; resign: boolean }): Promise<Outcome<ReleaseSummary>> {
    const s = this.#settings();
    if (!s.ok) return s;
    const open = this.#q.releaseInState("open");
    if (open !== null) {
      return err("release_open", `release ${open.id} is already open; activate it or add to it`, { open: open.id });
    }
    let parent: ReleaseRecord | null = null;
    if (input.from === "active") parent = this.#q.releaseInState("active");
    else if (input.from !== "empty") {
      parent = this.#q.release(input.from);
      if (parent === null) return err("release_not_found", `no release ${input.from} in this repository`);
    }
    const from = parent;
    const created = this.ctx.storage.transactionSync(() => {
      const open = this.#createOpen(from);
      if (!input.resign) return open;
      // Same contents, but every dist needs a newly dated, newly signed Release (see CreateReleaseSchema).
      for (const d of this.#q.dists(open.id)) this.#q.touchDist(open.id, d.dist);
      this.#q.bumpGeneration(open.id);
      return this.#q.release(open.id) ?? open;
    });
    return ok(summarizeRelease(created));
  }

  /**
   * Drop the open release and what only it holds (its copied segments, indexes, signatures): the
   * draft's changes are gone and the active release is untouched. Packages it alone named, and the
   * blobs of indexes it generated, are left for `gc` (after its grace period), as after a removal.
   * Its id is never given to another release: a document signed for it stays refused.
   */
  async discardRelease(id: string): Promise<Outcome<DiscardedRelease>> {
    return this.#exclusive(async () => {
      const s = this.#settings();
      if (!s.ok) return s;
      const r = this.#q.release(id);
      if (r === null) return err("release_not_found", `no release ${id} in this repository`);
      if (r.state !== "open") {
        return err(
          "release_immutable",
          `release ${id} is ${r.state}; only the open release can be discarded (an activated release is kept for rollback until gc)`,
        );
      }
      this.ctx.storage.transactionSync(() => {
        this.ctx.storage.kv.put(
          RELEASE_SEQ_FLOOR,
          Math.max(r.seq, this.ctx.storage.kv.get<number>(RELEASE_SEQ_FLOOR) ?? 0),
        );
        this.#q.deleteRelease(r.id);
      });
      return ok({ discarded: r.id, parent: r.parent });
    });
  }

  async listReleases(): Promise<Outcome<ReleaseList>> {
    const s = this.#settings();
    if (!s.ok) return s;
    return ok({ releases: this.#q.releases(LIST_LIMIT).map(summarizeRelease) });
  }

  /** One release: its state, its dists (changed, generated, signed) and package counts. */
  async showRelease(id: string): Promise<Outcome<ReleaseDetail>> {
    const s = this.#settings();
    if (!s.ok) return s;
    const r = this.#q.release(id);
    if (r === null) return err("release_not_found", `no release ${id} in this repository`);
    const dists = this.#q.dists(r.id);
    return ok({
      ...summarizeRelease(r),
      dists: dists.map((d) => ({
        dist: d.dist,
        changed: d.changed,
        generated_at: iso(d.generatedAt),
        signed_by: d.signedBy,
      })),
      unsigned_dists: r.state === "open" ? unsignedDists(dists, this.#revokedSigners()) : [],
      counts: this.#q.memberCounts(r.id),
    });
  }

  /** Packages in `to` but not in `from` (added) and the reverse (removed). */
  async diffReleases(from: string, to: string): Promise<Outcome<ReleaseDiff>> {
    const s = this.#settings();
    if (!s.ok) return s;
    for (const id of [from, to]) {
      if (this.#q.release(id) === null) return err("release_not_found", `no release ${id} in this repository`);
    }
    const size = (m: MemberRecord) => summarizeMember(m, this.#q.package(m.sha256)?.size ?? 0);
    return ok({
      from,
      to,
      added: this.#q.membersOnlyIn(to, from, LIST_LIMIT).map(size),
      removed: this.#q.membersOnlyIn(from, to, LIST_LIMIT).map(size),
      added_count: this.#q.countMembersOnlyIn(to, from),
      removed_count: this.#q.countMembersOnlyIn(from, to),
    });
  }

  // publishing

  /**
   * Regenerate the dirty indexes of one dist of the open release, render its Release and return
   * the unsigned document the client signs. Indexes that are clean are reused by hash.
   */
  async generate(
    dist: string,
  ): Promise<Outcome<{ document: UnsignedIndexDocument; regenerated: string[]; reused: string[] }>> {
    return this.#exclusive(async () => {
      const s = this.#settings();
      if (!s.ok) return s;
      const open = this.#q.releaseInState("open");
      if (open === null) {
        return err("no_open_release", "there is no open release to publish; add packages or create a release first");
      }
      const current = this.#q.dist(open.id, dist);
      if (current === null) {
        return err("dist_not_found", `dist ${dist} has no packages in release ${open.id}`);
      }
      const document = (text: string, at: number): UnsignedIndexDocument => ({
        format: INDEX_DOCUMENT_FORMAT,
        repository: s.value.id,
        dist,
        release: open.id,
        generation: open.generation,
        generated_at: new Date(at).toISOString(),
        release_text: text,
      });
      // One generation, one document: publishers racing on the same generation all get the same
      // Release text (and Date), so whichever signature arrives first is valid for all of them.
      if (
        current.generatedGeneration === open.generation &&
        current.releaseText !== null &&
        current.generatedAt !== null
      ) {
        const reused = this.#q.scopes(open.id, dist).map((x) => `${x.component}/binary-${x.architecture}`);
        return ok({ document: document(current.releaseText, current.generatedAt), regenerated: [], reused });
      }
      // Uploads may change the release while indexes stream to R2; then generate again, so the
      // document always describes one generation exactly.
      for (let attempt = 1; attempt <= GENERATE_ATTEMPTS; attempt++) {
        const generation = this.#generationOf(open.id);
        const { regenerated, reused } = await this.#regenerate(s.value, open.id, dist, generation);
        if (this.#generationOf(open.id) !== generation) continue;
        const generatedAt = Date.now();
        const text = this.#releaseText(s.value, open.id, dist, generatedAt);
        this.#q.setGenerated(open.id, dist, text, generation, generatedAt);
        const doc = { ...document(text, generatedAt), generation };
        return ok({ document: doc, regenerated, reused });
      }
      return err(
        "stale_generation",
        `release ${open.id} kept changing while its indexes were generated (uploads are still arriving); run armor index generate again`,
      );
    });
  }

  /**
   * Accept a signed document (DESIGN.md §3): the generation must still be current, the Release
   * text byte-equal to what this object generated, and both signatures valid by a trusted key.
   * Then InRelease and Release.gpg are stored, and the release activates once every changed
   * dist is signed (unless `activate` is false).
   */
  async submit(doc: SignedIndexDocument, options: { activate: boolean }): Promise<Outcome<Submitted>> {
    return this.#exclusive(async () => {
      const s = this.#settings();
      if (!s.ok) return s;
      if (doc.repository !== s.value.id) {
        return err("malformed_document", `this document is for repository ${doc.repository}, not ${s.value.id}`);
      }
      const release = this.#q.release(doc.release);
      if (release === null) return err("release_not_found", `no release ${doc.release} in this repository`);
      if (release.state !== "open") {
        return err("release_immutable", `release ${release.id} is ${release.state}; it can no longer be signed`);
      }
      if (doc.generation !== release.generation) {
        return err(
          "stale_generation",
          `the document was generated at generation ${doc.generation}, but release ${release.id} has changed since (now ${release.generation}); run armor index generate again and sign the new document`,
          { document_generation: doc.generation, current_generation: release.generation },
        );
      }
      const dist = this.#q.dist(release.id, doc.dist);
      if (dist === null || dist.releaseText === null || dist.generatedGeneration !== doc.generation) {
        return err(
          "release_mismatch",
          `dist ${doc.dist} was not generated at generation ${doc.generation}; run armor index generate`,
        );
      }
      if (dist.releaseText !== doc.release_text) {
        return err(
          "release_mismatch",
          "the Release text in the document differs from the one the server generated; sign the document armor index generate printed, unmodified",
        );
      }
      // Keys are changed in turn with this (addKey, removeKey): a revocation acknowledged before
      // this started is seen here, and none lands between this check and the activation below.
      const keys = this.#q.keys();
      const verified = await verifyReleaseSignatures({
        releaseText: doc.release_text,
        inrelease: doc.inrelease,
        releaseGpg: doc.release_gpg,
        fingerprint: doc.fingerprint,
        trustedKeys: keys.filter((k) => k.revokedAt === null).map((k) => k.armored),
        revokedKeys: keys.filter((k) => k.revokedAt !== null).map((k) => k.armored),
      });
      if (!verified.ok) return err(verified.error.code, verified.error.message);
      const encoder = new TextEncoder();
      const [releaseFile, inRelease, releaseGpg] = await Promise.all(
        // The verifier hands back the signatures reduced to their armor blocks: apt's gpgv wrapper
        // refuses any line outside the armor, so what is stored is exactly what it accepts.
        [doc.release_text, verified.value.inrelease, verified.value.releaseGpg].map((t) =>
          putBytes(this.env.BLOBS, s.value.scope, encoder.encode(t)),
        ),
      );
      if (releaseFile === undefined || inRelease === undefined || releaseGpg === undefined) {
        throw new Error("putBytes returned fewer results than files");
      }
      // An upload may have landed while the signatures were checked and stored.
      if (this.#generationOf(release.id) !== doc.generation) {
        return err(
          "stale_generation",
          `release ${release.id} changed while the signatures were being checked; run armor index generate again and sign the new document`,
          { document_generation: doc.generation, current_generation: this.#generationOf(release.id) },
        );
      }
      this.#q.setSigned(
        release.id,
        doc.dist,
        { release: releaseFile, inRelease, releaseGpg },
        verified.value.fingerprint,
        Date.now(),
      );
      const unsigned = unsignedDists(this.#q.dists(release.id), this.#revokedSigners());
      let activated = false;
      if (options.activate && unsigned.length === 0) {
        const result = await this.#activate(s.value, release.id);
        if (!result.ok) return result;
        activated = true;
      }
      return ok({
        release: release.id,
        dist: doc.dist,
        fingerprint: verified.value.fingerprint,
        activated,
        unsigned_dists: unsigned,
      });
    });
  }

  /**
   * Make a release the served one: an open release whose changed dists are all signed, or a
   * retired one still within retention (rollback). The D1 pointer and the activation log change
   * with the object's state; until D1 confirms, the activation is not reported done.
   */
  async activate(id: string): Promise<Outcome<ActivatedRelease>> {
    return this.#exclusive(async () => {
      const s = this.#settings();
      if (!s.ok) return s;
      return this.#activate(s.value, id);
    });
  }

  /**
   * Finish a deletion cut short (see `destroy`), or write the D1 pointer of an activation that is
   * not visible yet: one whose write failed, or whose object died before or during it (see
   * `#publishPointer`). Taken in turn with activations, so pointers are written in the order
   * releases were activated. Retried while D1 fails; not once the repository's row is gone
   * (deleted), which would otherwise loop forever.
   */
  override async alarm(): Promise<void> {
    await this.#exclusive(async () => {
      const destroying = this.ctx.storage.kv.get<string>(DESTROYING);
      if (destroying !== undefined) {
        await this.#finishDestroy(destroying).catch(async (cause) => {
          console.error("finishing a repository's deletion failed; retrying", cause);
          await this.ctx.storage.setAlarm(Date.now() + SYNC_RETRY_MS);
        });
        return;
      }
      const s = this.#q.settings();
      if (s === null || this.#q.pendingActivations() === 0) return;
      if ((await this.#syncPointer(s)) === "failed") await this.ctx.storage.setAlarm(Date.now() + SYNC_RETRY_MS);
    });
  }

  // apt serving

  /**
   * Resolve a path under the repository root, as served by `release`, to the blob holding it.
   * `path` has been split and checked by the Worker (no empty, "." or ".." segments).
   */
  async resolve(release: string, path: string): Promise<FileRef | null> {
    const s = this.#live();
    if (s === null) return null;
    const r = this.#q.release(release);
    const retainedAfter = Date.now() - s.retentionSeconds * 1000;
    if (r === null || !isRetained(r, retainedAfter)) return null;
    const parts = path.split("/");
    if (parts[0] === "pool") {
      const p = this.#q.poolFile(path, r.id, retainedAfter);
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
      const d = this.#q.dist(r.id, dist);
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
      const f = this.#q.byHash(dist, directory, column, hex.toLowerCase(), retainedAfter);
      return f === null
        ? null
        : { sha256: f.sha256, size: f.size, lastModified: f.generatedAt, immutable: true, ...this.#parts(dist, f) };
    }
    const f = this.#q.indexFile(r.id, dist, file);
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

  /** The blobs an index file kept as chunks is served from, in order. */
  #parts(dist: string, f: IndexFileRecord): { parts?: BlobPart[] } {
    if (f.storage !== "chunks" || f.release === undefined) return {};
    const chunks = this.#q.chunks(f.release, dist, f.component, f.architecture);
    return { parts: chunks.map((c) => ({ sha256: c.gzipSha256, size: c.gzipSize })) };
  }

  /** The release that was active at `at` (ms since the epoch), per the activation log. */
  async releaseAt(at: number): Promise<Outcome<string>> {
    const s = this.#settings();
    if (!s.ok) return s;
    const id = this.#q.releaseVisibleAt(at);
    const when = new Date(at).toISOString();
    if (id === null) return err("snapshot_not_found", `no release of this repository was active at ${when}`);
    const r = this.#q.release(id);
    if (r === null || !isRetained(r, Date.now() - s.value.retentionSeconds * 1000)) {
      return err("release_expired", `the release active at ${when} is past this repository's retention`);
    }
    return ok(id);
  }

  /** The activation log, newest first. */
  async activations(): Promise<Outcome<ActivationLog>> {
    const s = this.#settings();
    if (!s.ok) return s;
    return ok({
      activations: this.#q.activations(LIST_LIMIT).map((a) => ({
        release: a.release,
        previous: a.previous,
        requested_at: new Date(a.requestedAt).toISOString(),
        visible_at: iso(a.visibleAt),
      })),
    });
  }

  // trusted keys

  /**
   * Hand the repository a key text (DESIGN.md §4b): a public key to trust (or an export of one it
   * holds, merged into it), a revoked key, or a revocation certificate for a key it holds. A
   * revocation is recorded at once and for good, and answered as a success naming the key as
   * revoked: from then on the key signs nothing in this repository, a dist it signed in the open
   * release needs signing again, it can never be trusted again, and the archive keyring carries
   * its revocation. A revoked key that was never trusted is recorded the same way, so an older
   * export of it cannot be trusted later. Refused, changing nothing: secret, expired and unusable
   * keys, and an unrevoked export of a key already revoked (`key_revoked`).
   */
  async addKey(armored: string): Promise<Outcome<KeySummary>> {
    // In turn with submit: a signature checked against the keys before this revocation cannot
    // activate after it.
    return this.#exclusive(async () => {
      const s = this.#settings();
      if (!s.ok) return s;
      const held = this.#q.keys();
      const read = await readKeySubmission(armored, held);
      if (!read.ok) return err(read.error.code, read.error.message);
      const { key, revocation, revokes } = read.value;
      const before = held.find((k) => k.fingerprint === key.fingerprint);
      if (before !== undefined && before.revokedAt !== null && !revokes) {
        return err(
          "key_revoked",
          `Key ${key.fingerprint} was revoked (this repository learned it on ${new Date(before.revokedAt).toISOString()}): it can never be trusted again. Sign with another key and add that one.`,
          { fingerprint: key.fingerprint, revoked_at: new Date(before.revokedAt).toISOString() },
        );
      }
      const now = Date.now();
      const record: KeyRecord = {
        fingerprint: key.fingerprint,
        armored: key.armored,
        userIds: key.userIds,
        algorithm: key.algorithm,
        createdAt: key.createdAt,
        expiresAt: key.expiresAt,
        addedAt: before?.addedAt ?? now,
        revokedAt: revocation === null ? null : (before?.revokedAt ?? now),
        revocationReason: revocation === null ? null : (before?.revocationReason ?? revocation.reason),
      };
      this.#q.upsertKey(record);
      this.#keysChanged(now);
      return ok(summarizeKey(record));
    });
  }

  /**
   * Record that the key set changed (a key added, merged, revoked or removed): the archive
   * keyring's Last-Modified, which `armor keyring build` turns into a version that grows with every
   * change, even one that leaves no newer key behind (a removal).
   */
  #keysChanged(at: number): void {
    this.ctx.storage.kv.put(
      KEYS_CHANGED_AT,
      Math.max(at, (this.ctx.storage.kv.get<number>(KEYS_CHANGED_AT) ?? 0) + 1000),
    );
  }

  /** Every key the repository holds: trusted ones, and revoked ones (`status: "revoked"`), which sign nothing. */
  async listKeys(): Promise<Outcome<KeyList>> {
    const s = this.#settings();
    if (!s.ok) return s;
    return ok({ keys: this.#q.keys().map(summarizeKey) });
  }

  /**
   * Stop trusting a key. A revoked key stays: its row is how the repository remembers never to
   * trust it again, and how the archive keyring tells apt clients of its revocation.
   */
  async removeKey(fingerprint: string): Promise<Outcome<RemovedKey>> {
    return this.#exclusive(async () => {
      const s = this.#settings();
      if (!s.ok) return s;
      const key = this.#q.keys().find((k) => k.fingerprint === fingerprint);
      if (key === undefined) return err("key_not_found", `no trusted key ${fingerprint} in this repository`);
      if (key.revokedAt !== null) {
        return err(
          "key_revoked",
          `Key ${fingerprint} is revoked and already signs nothing; it is kept so that it is never trusted again and so the archive keyring carries its revocation to apt clients.`,
          { fingerprint, revoked_at: new Date(key.revokedAt).toISOString() },
        );
      }
      this.#q.deleteKey(fingerprint);
      this.#keysChanged(Date.now());
      return ok({ removed: fingerprint });
    });
  }

  /**
   * The archive keyring apt users install: every key the repository holds, armored and binary,
   * revoked ones with their revocation, so that clients importing it learn of it.
   */
  async keyring(): Promise<{ armored: string; binary: Uint8Array; updatedAt: number } | null> {
    if (this.#live() === null) return null;
    const keys = this.#q.keys();
    if (keys.length === 0) return null;
    const ring = await buildKeyring(keys.map((k) => k.armored));
    const changed = this.ctx.storage.kv.get<number>(KEYS_CHANGED_AT) ?? 0;
    return { ...ring, updatedAt: Math.max(changed, ...keys.map((k) => Math.max(k.addedAt, k.revokedAt ?? 0))) };
  }

  /** Primary fingerprints of the revoked keys: what they signed in the open release needs signing again. */
  #revokedSigners(): Set<string> {
    return new Set(
      this.#q
        .keys()
        .filter((k) => k.revokedAt !== null)
        .map((k) => k.fingerprint),
    );
  }

  // admin

  /** Counts, bytes and the dirty indexes of the open release. */
  async stats(): Promise<Outcome<Stats>> {
    const s = this.#settings();
    if (!s.ok) return s;
    const open = this.#q.releaseInState("open");
    const active = this.#q.releaseInState("active");
    const dirty = open === null ? [] : this.#dirtyScopes(open.id);
    return ok({
      repository: s.value.id,
      open_release: open?.id ?? null,
      active_release: active?.id ?? null,
      ...this.#q.counts(),
      dirty,
    });
  }

  /** Mark every index of the open release dirty (opening one from the active release), so the next generate rebuilds and re-stores all. */
  async reindex(): Promise<Outcome<Reindexed>> {
    const s = this.#settings();
    if (!s.ok) return s;
    const result = this.ctx.storage.transactionSync(() => {
      const open = this.#openRelease();
      this.#q.markAllDirty(open.id);
      for (const d of this.#q.dists(open.id)) this.#q.touchDist(open.id, d.dist);
      return { release: open.id, generation: this.#q.bumpGeneration(open.id) };
    });
    return ok({ ...result, dirty: this.#dirtyScopes(result.release).length });
  }

  /** Check that every blob a row points at exists in R2 with the size and SHA-256 the row claims. */
  async fsck(): Promise<Outcome<Fsck>> {
    const s = this.#settings();
    if (!s.ok) return s;
    const pointers = this.#q.blobPointers();
    const problems: { sha256: string; kind: string; problem: string }[] = [];
    for (const p of pointers) {
      const head = await this.env.BLOBS.head(blobKey(s.value.scope, p.sha256));
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
        const hex = stored === undefined ? await this.#hashBlob(s.value.scope, p.sha256) : toHex(stored);
        if (hex === null) problems.push({ sha256: p.sha256, kind: p.kind, problem: "missing" });
        else if (hex !== p.sha256) problems.push({ sha256: p.sha256, kind: p.kind, problem: `sha256 is ${hex}` });
      }
    }
    return ok({ checked: pointers.length, problems });
  }

  /**
   * Delete what no release within retention needs: retired releases past retention, packages no
   * release refers to (after a grace period for fresh uploads), and the blobs nothing points at.
   * This is the only place unreferenced blobs are removed: a refused or failed upload leaves what
   * it stored, because another request may have stored or found the same bytes and be about to
   * register them (DESIGN.md §4b); the grace period covers that window. Multipart staging objects
   * (r2/blobs.ts stagingKey) whose completing request died before deleting them
   * go after the same grace period; counted with the blobs.
   */
  async gc(options: { graceSeconds: number }): Promise<Outcome<Collected>> {
    const s = this.#settings();
    if (!s.ok) return s;
    const now = Date.now();
    const before = now - options.graceSeconds * 1000;
    const expired = this.#q.expiredReleases(now - s.value.retentionSeconds * 1000);
    const packages = this.ctx.storage.transactionSync(() => {
      for (const id of expired) this.#q.deleteRelease(id);
      const gone = this.#q.unreferencedPackages(before);
      for (const sha of gone) this.#q.deletePackage(sha);
      return gone.length;
    });
    const referenced = this.#q.referencedHashes();
    const blobs = await this.#sweep(blobPrefix(s.value.scope), before, (sha256) => referenced.has(sha256));
    const staged = await this.#sweep(stagingPrefix(s.value.scope), before, () => false);
    return ok({
      releases_deleted: expired,
      packages_deleted: packages,
      blobs_deleted: blobs.count + staged.count,
      bytes_freed: blobs.bytes + staged.bytes,
    });
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
      const page = await this.env.BLOBS.list({ prefix, cursor });
      const doomed = page.objects.filter((o) => !keep(o.key.slice(prefix.length)) && o.uploaded.getTime() <= before);
      if (doomed.length > 0) await this.env.BLOBS.delete(doomed.map((o) => o.key));
      count += doomed.length;
      bytes += doomed.reduce((n, o) => n + o.size, 0);
      cursor = page.truncated ? page.cursor : undefined;
    } while (cursor !== undefined);
    return { count, bytes };
  }

  // private helpers

  /** Run `fn` after every earlier exclusive call has finished (generate, submit, activate). */
  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#turn.then(fn, fn);
    this.#turn = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  #generationOf(release: string): number {
    return this.#q.release(release)?.generation ?? -1;
  }

  async #hashBlob(scope: string, sha256: string): Promise<string | null> {
    const object = await this.env.BLOBS.get(blobKey(scope, sha256));
    if (object === null) return null;
    const digest = new crypto.DigestStream("SHA-256");
    await object.body.pipeTo(digest);
    return toHex(await digest.digest);
  }

  #settings(): Outcome<Settings> {
    const s = this.#live();
    return s === null ? err("repository_not_found", "this repository has not been created, or was deleted") : ok(s);
  }

  /** The settings of a repository that exists: none before `configure`, nor once `destroy` began. */
  #live(): Settings | null {
    return this.ctx.storage.kv.get(DESTROYING) === undefined ? this.#q.settings() : null;
  }

  /** A change names a release: it must be the open one (active and retired releases are immutable). */
  #mutable(release: string | null): Outcome<never> | null {
    if (release === null) return null;
    const r = this.#q.release(release);
    if (r === null) return err("release_not_found", `no release ${release} in this repository`);
    if (r.state !== "open") {
      return err(
        "release_immutable",
        `release ${release} is ${r.state} and can no longer change; changes go into a new open release`,
      );
    }
    return null;
  }

  #versionConflict(
    s: Settings,
    name: string,
    version: string,
    architecture: string,
    sha256: string,
  ): Outcome<never> | null {
    if (s.mayReuseVersions) return null;
    const bound = this.#q.boundContent(name, version, architecture);
    if (bound === null || bound === sha256) return null;
    return err(
      "version_exists",
      `${name} ${version} (${architecture}) already exists with different content; bump the version (this repository does not allow version reuse)`,
      { name, version, architecture, existing_sha256: bound },
    );
  }

  /**
   * Mark what changed members touch: their indexes (every index of the component for `all`
   * packages), and in each index the chunk whose key range holds them, bumped once per change.
   * Chunks are found here rather than by a statement per member: ingest adds thousands at once.
   */
  #markDirty(release: string, changed: readonly MemberRecord[]): void {
    const byComponent = groupBy(changed, (m) => `${m.dist}\0${m.component}`);
    for (const group of byComponent.values()) {
      const { dist, component } = group[0] as MemberRecord;
      for (const arch of new Set(group.map((m) => m.architecture)))
        this.#q.markScopeDirty(release, dist, component, arch);
      const byArch = groupBy(this.#q.chunkStarts(release, dist, component), (c) => c.architecture);
      const starts = [...byArch].map(([arch, chunks]) => ({ arch, starts: chunks.map((c) => c.start) }));
      for (const m of group) {
        const key: IndexKey = [m.name, m.version, m.architecture];
        for (const { arch, starts: keys } of starts) {
          if (m.architecture !== "all" && m.architecture !== arch) continue;
          const start = keys[coveringIndex(keys, key)];
          if (start !== undefined) this.#q.bumpChunk(release, dist, component, arch, start);
        }
      }
    }
  }

  /** The open release, created from the active one if there is none. Call inside a transaction. */
  #openRelease(): ReleaseRecord {
    return this.#q.releaseInState("open") ?? this.#createOpen(this.#q.releaseInState("active"));
  }

  #createOpen(parent: ReleaseRecord | null): ReleaseRecord {
    // Never an id a discarded release had: a document signed for it must not match a new one.
    const seq = Math.max(this.#q.nextReleaseSeq(), (this.ctx.storage.kv.get<number>(RELEASE_SEQ_FLOOR) ?? 0) + 1);
    const id = `r${seq}`;
    this.#q.insertOpenRelease(id, seq, parent?.id ?? null, Date.now());
    if (parent !== null) this.#q.copyReleaseContents(parent.id, id);
    const created = this.#q.release(id);
    if (created === null) throw new Error(`release ${id} vanished right after it was inserted`);
    return created;
  }

  #dirtyScopes(release: string): string[] {
    return this.#q.dists(release).flatMap((d) =>
      this.#q
        .scopes(release, d.dist)
        .filter((x) => x.dirty)
        .map((x) => `${d.dist}/${x.component}/binary-${x.architecture}`),
    );
  }

  /** The (component, architecture) indexes a dist has: every component times every architecture. */
  #wantedScopes(release: string, dist: string): { component: string; architecture: string }[] {
    const archs = this.#q.architectures(release, dist);
    const real = archs.filter((a) => a !== "all");
    // `all` packages are listed in every architecture's index; a dist with nothing else gets binary-all.
    const indexArchs = real.length > 0 ? real : archs;
    return this.#q
      .components(release, dist)
      .flatMap((component) => indexArchs.map((architecture) => ({ component, architecture })));
  }

  async #regenerate(
    s: Settings,
    release: string,
    dist: string,
    generation: number,
  ): Promise<{ regenerated: string[]; reused: string[] }> {
    const wanted = this.#wantedScopes(release, dist);
    const existing = this.#q.scopes(release, dist);
    const key = (x: { component: string; architecture: string }) => `${x.component}/binary-${x.architecture}`;
    const wantedKeys = new Set(wanted.map(key));
    for (const x of existing)
      if (!wantedKeys.has(key(x))) this.#q.deleteScope(release, dist, x.component, x.architecture);
    const clean = new Set(existing.filter((x) => !x.dirty).map(key));
    const regenerated: string[] = [];
    const reused: string[] = [];
    for (const scope of wanted) {
      const dir = key(scope);
      if (clean.has(dir)) {
        reused.push(dir);
        continue;
      }
      await this.#regenerateScope(s, release, dist, scope, generation);
      regenerated.push(dir);
    }
    return { regenerated, reused };
  }

  /**
   * Re-render the dirty chunks of one index (all of it when it has none yet), then store
   * Packages.gz as their concatenation, and Packages too when the index is a single chunk.
   */
  async #regenerateScope(
    s: Settings,
    release: string,
    dist: string,
    scope: { component: string; architecture: string },
    generation: number,
  ): Promise<void> {
    const bucket = this.env.BLOBS;
    const before = this.#q.chunks(release, dist, scope.component, scope.architecture);
    // Chunks are hashed as they are written or, when clean, read back: one pass, in key order.
    let hasher = new IndexHasher();
    const whole = () => {
      hasher = new IndexHasher();
      return writeChunks(
        bucket,
        s.scope,
        FIRST_KEY,
        null,
        this.#indexEntries(release, dist, scope, FIRST_KEY, null),
        hasher,
      );
    };
    let chunks: WrittenChunk[] = [];
    if (before.length === 0) chunks = await whole();
    let clean: typeof before = [];
    for (const [i, old] of before.entries()) {
      if (old.dirty === 0) {
        chunks.push({ ...old, source: old.start, plain: null });
        clean.push(old);
        continue;
      }
      await hasher.addStored(bucket, s.scope, clean);
      clean = [];
      const end = before[i + 1]?.start ?? null;
      chunks.push(
        ...(await writeChunks(
          bucket,
          s.scope,
          old.start,
          old.start,
          this.#indexEntries(release, dist, scope, old.start, end),
          hasher,
        )),
      );
    }
    // An index that shrank to one chunk's worth is rebuilt as one chunk, with its plain text.
    const plainSize = chunks.reduce((n, c) => n + c.plainSize, 0);
    if ((chunks.length > 1 && plainSize <= CHUNK_BYTES) || (chunks.length === 1 && chunks[0]?.plain === null)) {
      chunks = await whole();
    } else {
      await hasher.addStored(bucket, s.scope, clean);
    }
    const first = chunks[0];
    if (first !== undefined) first.start = FIRST_KEY;
    const composed = await hasher.digest(bucket, s.scope);
    // One chunk (or none) is a small index: its Packages.gz is one blob, and its text is stored too.
    const small = chunks.length <= 1;
    const stored = small ? await putBytes(bucket, s.scope, first?.plain ?? new Uint8Array()) : null;
    const at = Date.now();
    const dir = `${scope.component}/binary-${scope.architecture}`;
    const files: IndexFileRecord[] = [
      { path: `${dir}/Packages.gz`, ...scope, ...composed.gzip, generatedAt: at, storage: small ? "blob" : "chunks" },
      stored !== null
        ? { path: `${dir}/Packages`, ...scope, ...stored, generatedAt: at, storage: "blob" }
        : {
            path: `${dir}/Packages`,
            ...scope,
            ...composed.plain,
            md5: "",
            sha512: "",
            generatedAt: at,
            storage: "listed",
          },
    ];

    this.ctx.storage.transactionSync(() => {
      // A change that landed while this ran bumped its chunk's counter (or, in an index that had
      // no chunks, only the generation): keep what it touched dirty for the next generate.
      const now = new Map(
        this.#q.chunks(release, dist, scope.component, scope.architecture).map((c) => [c.start.join("\0"), c.dirty]),
      );
      const seen = new Map(before.map((c) => [c.start.join("\0"), c.dirty]));
      const changed = this.#generationOf(release) !== generation;
      const saved = chunks.map(({ source, plain: _, ...c }) => {
        const was = source === null ? undefined : seen.get(source.join("\0"));
        const is = source === null ? undefined : now.get(source.join("\0"));
        const stale = source === null ? changed : was !== is;
        return { ...c, dirty: stale ? 1 : 0 };
      });
      const stillDirty = saved.some((c) => c.dirty > 0) || (before.length === 0 && changed);
      this.#q.saveScope(release, dist, scope.component, scope.architecture, files, saved, stillDirty);
    });
  }

  /** The stanzas of one index from `from` (inclusive) to `before`, read page by page so only one page of rows is in memory. */
  *#indexEntries(
    release: string,
    dist: string,
    scope: { component: string; architecture: string },
    from: IndexKey,
    before: IndexKey | null,
  ): Generator<IndexRow> {
    let range = { after: from, inclusive: true, before };
    for (;;) {
      const page = this.#q.indexPage(release, dist, scope.component, scope.architecture, range, INDEX_PAGE_ROWS);
      yield* page;
      const last = page.at(-1);
      if (last === undefined || page.length < INDEX_PAGE_ROWS) return;
      range = { after: last.key, inclusive: false, before };
    }
  }

  #releaseText(s: Settings, release: string, dist: string, at: number): string {
    const files = this.#q.indexFiles(release, dist);
    const archs = [...new Set(files.map((f) => f.architecture))].sort();
    const components = [...new Set(files.map((f) => f.component))].sort();
    return renderRelease({
      origin: s.origin,
      label: s.label,
      suite: dist,
      codename: dist,
      date: new Date(at),
      architectures: archs,
      components,
      description: `${s.id} (${dist}), published with Armor`,
      acquireByHash: true,
      snapshots: `${s.baseUrl}/@SNAPSHOTID@/`,
      files: files.map((f) => ({
        path: f.path,
        size: f.size,
        sha256: f.sha256,
        ...(f.md5 === "" ? {} : { md5: f.md5 }),
        ...(f.sha512 === "" ? {} : { sha512: f.sha512 }),
      })),
    });
  }

  async #activate(s: Settings, id: string): Promise<Outcome<ActivatedRelease>> {
    const r = this.#q.release(id);
    if (r === null) return err("release_not_found", `no release ${id} in this repository`);
    const now = Date.now();
    const active = this.#q.releaseInState("active");
    if (r.state === "active") {
      if (this.#q.pendingActivations() > 0) {
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
      const dists = this.#q.dists(r.id);
      const revoked = this.#revokedSigners();
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
    this.ctx.storage.transactionSync(() => {
      this.#q.switchActive(r.id, now);
      this.#q.insertActivation(r.id, active?.id ?? null, now);
    });
    const refused = await this.#publishPointer(s, id);
    if (refused) return refused;
    return ok({ release: r.id, previous: active?.id ?? null, activated_at: new Date(now).toISOString() });
  }

  /**
   * Make D1's pointer name the active release, after an activation was committed (or found
   * pending). The retry is scheduled before the write is sent, with no I/O in between: the alarm
   * is stored in the same output-gated step as the commit, and the output gate holds the D1
   * request until both are on disk. However the object dies from then on (before, during or
   * after the write), its alarm writes the pointer; a constructor finding activations pending
   * with no alarm schedules one too (`#resumePointer`). Returns the refusal to answer, or null.
   */
  async #publishPointer(s: Settings, id: string): Promise<Outcome<never> | null> {
    await this.ctx.storage.setAlarm(Date.now() + SYNC_RETRY_MS);
    const written = await this.#syncPointer(s);
    if (written === "failed") {
      return err(
        "activation_pending",
        `release ${id} is active in the repository, but the edge still serves the previous release: writing its pointer to D1 failed. The repository retries on its own every few seconds; \`armor release activate ${id}\` retries now`,
        { release: id },
      );
    }
    await this.ctx.storage.deleteAlarm();
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
    const active = this.#q.releaseInState("active");
    try {
      // Only this lifetime's row: a successor created under the same id has another uid, and a
      // late retry of a deleted repository's object must never move its pointer.
      if (!(await setActiveRelease(this.env.DB, s, active?.id ?? null))) {
        console.error(`no D1 row for repository ${s.id}: its pointer is not written, nor retried`);
        return "gone";
      }
    } catch (cause) {
      console.error("writing the active release pointer to D1 failed", cause);
      return "failed";
    }
    this.#q.markActivationsVisible(Date.now());
    return "written";
  }
}

function summarizeKey(k: KeyRecord): KeySummary {
  return {
    fingerprint: k.fingerprint,
    status: k.revokedAt === null ? "trusted" : "revoked",
    user_ids: k.userIds,
    algorithm: k.algorithm,
    created_at: k.createdAt,
    expires_at: k.expiresAt,
    added_at: new Date(k.addedAt).toISOString(),
    revoked_at: iso(k.revokedAt),
    revocation_reason: k.revocationReason,
  };
}

/**
 * Dists that differ from the parent and carry no valid signature yet: activation waits for them.
 * A signature by a key revoked since it was accepted no longer counts: the key signs nothing more.
 */
function unsignedDists(dists: DistRecord[], revokedSigners: ReadonlySet<string>): string[] {
  return dists
    .filter((d) => d.changed && (d.inRelease === null || (d.signedBy !== null && revokedSigners.has(d.signedBy))))
    .map((d) => d.dist);
}

function isRetained(r: ReleaseRecord, retainedAfter: number): boolean {
  return r.state === "active" || (r.state === "retired" && (r.retiredAt ?? 0) > retainedAfter);
}
