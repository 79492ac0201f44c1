/**
 * RepositoryObject: one Durable Object per lifetime of a repository (`idFromName(scope)`, r2/blobs.ts
 * repositoryScope), SQLite storage. This class is the object's public face: the RPC surface the
 * Worker calls, each method a few lines over the concern modules beside it, which keep their SQL
 * with their logic:
 *
 *   settings.ts      the repository's settings, and whether it exists
 *   packages.ts      uploaded packages, version bindings, the admission rules (pool-paths.ts)
 *   membership.ts    adding packages to a release's dists, removing, listing, comparing; its
 *                    rows are segments.ts's (copy-on-write, key-ranged)
 *   releases.ts      open, create, discard, list and show releases
 *   publishing/      generate.ts → (the client signs) → submit.ts → activation.ts: the publish
 *                    path top to bottom, with the indexes (indexes.ts, index-writer.ts) and dists
 *                    (dists.ts) it writes, the D1 pointer, the alarm and the activation log
 *   serving.ts       apt's paths: dists, by-hash, pool, snapshots
 *   trusted-keys.ts  the keys that may sign, and the archive keyring
 *   maintenance.ts   stats, reindex, fsck, gc, destroy
 *
 * Being the single writer of its repository is the lock: package changes are synchronous
 * transactions; generate, submit, activate, key changes, discard and destroy take turns through
 * one in-object lock (`#exclusive`). They await R2 and D1, and uploads may land meanwhile, so each
 * re-checks the release's generation before it commits what it computed (DESIGN.md §2–§4).
 * (`blockConcurrencyWhile` would also keep uploads out, but it resets the object after 30 s, and
 * local workerd never finishes an R2 get-then-put inside it, which composing a Packages.gz from
 * its chunks does.)
 *
 * Each RPC method returns plain data or an `ApiError` value (outcome.ts); answers are the shapes
 * of schema/responses.ts. Arguments were validated at the edge (schema/api.ts); the object
 * re-checks what only it can know (does the release exist, is it open, is the generation current).
 */
import { DurableObject } from "cloudflare:workers";
import type { SignedIndexDocument, UnsignedIndexDocument } from "../../schema/index-document.ts";
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
import { Browse, type PackageListing, type PackageMember } from "./browse.ts";
import { type KeyConcern, keyConcerns } from "./key-policy.ts";
import { Maintenance } from "./maintenance.ts";
import { Membership } from "./membership.ts";
import { migrate } from "./migrations.ts";
import { err, type Outcome, ok } from "./outcome.ts";
import { type BatchUpload, Packages, type UploadedPackage } from "./packages.ts";
import { Activation } from "./publishing/activation.ts";
import { Dists } from "./publishing/dists.ts";
import { ReleaseGenerator } from "./publishing/generate.ts";
import { Indexes } from "./publishing/indexes.ts";
import { Submission } from "./publishing/submit.ts";
import { Releases } from "./releases.ts";
import { Segments } from "./segments.ts";
import { type FileRef, Serving } from "./serving.ts";
import { describeSettings, type RepositoryConfig, type Settings, SettingsStore } from "./settings.ts";
import { TrustedKeys } from "./trusted-keys.ts";

export type { FileRef, RepositoryConfig, UploadedPackage };

export class RepositoryObject extends DurableObject<Env> {
  readonly #settings: SettingsStore;
  readonly #packages: Packages;
  readonly #membership: Membership;
  readonly #releases: Releases;
  readonly #generator: ReleaseGenerator;
  readonly #submission: Submission;
  readonly #activation: Activation;
  readonly #serving: Serving;
  readonly #keys: TrustedKeys;
  readonly #maintenance: Maintenance;
  readonly #browse: Browse;
  #turn: Promise<void> = Promise.resolve();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const storage = ctx.storage;
    this.#settings = new SettingsStore(storage);
    this.#packages = new Packages(storage);
    this.#keys = new TrustedKeys(storage);
    const segments = new Segments(storage);
    const indexes = new Indexes(storage);
    const dists = new Dists(storage);
    const releases = new Releases(storage, { segments, indexes, dists, keys: this.#keys });
    this.#releases = releases;
    this.#membership = new Membership(storage, { segments, packages: this.#packages, releases, indexes, dists });
    // Bindings are read from `this.env` at each use, not captured here: the tests replace it to
    // make D1 or R2 fail at a chosen moment.
    const db = () => this.env.DB;
    const bucket = () => this.env.BLOBS;
    this.#activation = new Activation(storage, db, { releases, dists, keys: this.#keys });
    this.#generator = new ReleaseGenerator(storage, bucket, { releases, segments, indexes, dists });
    this.#submission = new Submission(bucket, { releases, dists, keys: this.#keys, activation: this.#activation });
    this.#serving = new Serving(storage, { releases, indexes, dists, activation: this.#activation });
    this.#maintenance = new Maintenance(storage, bucket, { releases, packages: this.#packages, indexes, dists });
    this.#browse = new Browse(storage.sql);
    void ctx.blockConcurrencyWhile(async () => {
      migrate(storage);
      if (this.#settings.read() !== null) await this.#activation.resume();
    });
  }

  /** Run `fn` after every earlier exclusive call has finished (generate, submit, activate, keys, discard, destroy). */
  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#turn.then(fn, fn);
    this.#turn = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /** Run `fn` with the settings of a repository that exists; otherwise answer `repository_not_found`. */
  async #withRepository<T>(fn: (s: Settings) => Outcome<T> | Promise<Outcome<T>>): Promise<Outcome<T>> {
    const s = this.#settings.live();
    if (s === null) return err("repository_not_found", "this repository has not been created, or was deleted");
    return fn(s);
  }

  /** `#withRepository`, in turn with the other exclusive calls. */
  #inTurn<T>(fn: (s: Settings) => Outcome<T> | Promise<Outcome<T>>): Promise<Outcome<T>> {
    return this.#exclusive(() => this.#withRepository(fn));
  }

  // configuration

  /** Create or update the repository's settings (called by the admin API when it creates the repository). */
  async configure(config: RepositoryConfig): Promise<Outcome<RepositoryConfig>> {
    this.#settings.configure(config);
    return ok(config);
  }

  /** The repository's settings, as clients need them (`armor repo setup`). */
  async info(): Promise<Outcome<RepositorySettings>> {
    return this.#withRepository((s) => ok(describeSettings(s)));
  }

  /**
   * Delete the repository's blobs and every row of this object (the admin API has already removed
   * it from D1, so the edge no longer routes to it). The intent is recorded first and an alarm set,
   * so a deletion cut short (an R2 failure, a crash) finishes on its own: nothing of a deleted
   * repository stays stored. Its successor under the same id is another object with other R2 keys
   * (r2/blobs.ts repositoryScope), so what is not yet removed is never reachable from it. In turn
   * with any activation or pointer retry under way: none of them may write a pointer afterwards.
   */
  async destroy(): Promise<Outcome<Destroyed>> {
    return this.#inTurn((s) => this.#maintenance.destroy(s));
  }

  // packages

  /** Whether this repository already holds a package with this SHA-256 (clients skip the upload). */
  async hasPackage(sha256: string): Promise<Outcome<PackageSummary | null>> {
    return this.#withRepository(() => ok(this.#packages.summary(sha256)));
  }

  /**
   * Would `registerPackage` accept this upload now? The Worker asks after parsing an upload and
   * before its bytes reach their content address, so a refused version writes nothing
   * (worker/upload.ts). The same content as the bound one, or version reuse, is accepted.
   */
  async checkPackage(upload: UploadedPackage): Promise<Outcome<null>> {
    return this.#withRepository((s) => this.#packages.check(s, upload));
  }

  /**
   * Record a package whose bytes the Worker has stored and parsed. A (name, version, architecture)
   * is bound to one content forever unless the repository allows version reuse; the same content
   * again is an idempotent success. A pool file name belongs to one version (pool-paths.ts).
   */
  async registerPackage(upload: UploadedPackage): Promise<Outcome<RegisteredPackage>> {
    return this.#withRepository((s) => this.#packages.register(s, upload));
  }

  /**
   * Which of these hashes this repository holds: the batch form of `hasPackage`, so a client can
   * skip every file the repository already has with one request.
   */
  async findPackages(sha256s: string[]): Promise<Outcome<Record<string, PackageSummary | null>>> {
    return this.#withRepository(() => ok(this.#packages.find(sha256s)));
  }

  /**
   * Would `registerPackages` accept this batch now? The Worker asks before it writes anything to R2,
   * so a batch refused for a version conflict costs no writes and leaves nothing to clean up.
   * Returns the hashes the repository does not have yet: only those need storing.
   */
  async checkPackages(uploads: BatchUpload[]): Promise<Outcome<{ missing: string[] }>> {
    return this.#withRepository((s) => this.#packages.checkBatch(s, uploads));
  }

  /**
   * Record a batch of packages whose bytes the Worker has stored and parsed: all or nothing, in
   * one transaction. The rules are `registerPackage`'s, applied in order, plus one of the batch's
   * own: two different files with the same (name, version, architecture) are refused, since
   * which one should be bound would depend on their order in the request, and so are two
   * versions of one pool file name. The same content twice is fine; the later copy reports
   * `created: false`. Results are in request order.
   */
  async registerPackages(uploads: BatchUpload[]): Promise<Outcome<RegisteredBatch>> {
    return this.#withRepository((s) => this.#packages.registerBatch(s, uploads));
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
    return this.#withRepository((s) => this.#membership.add(s, input));
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
    return this.#withRepository(() => this.#membership.remove(input));
  }

  /** List packages of a release (default: the open one, else the active one), filtered. */
  async listPackages(filter: {
    release: string | null;
    dist: string | null;
    component: string | null;
    architecture: string | null;
    name: string | null;
  }): Promise<Outcome<PackageList>> {
    return this.#withRepository(() => this.#membership.list(filter));
  }

  // releases

  /** Open a new release, empty or from another release (copy-on-write membership). At most one is open. */
  async createRelease(input: { from: string; resign: boolean }): Promise<Outcome<ReleaseSummary>> {
    return this.#withRepository(() => this.#releases.create(input));
  }

  /**
   * Drop the open release and what only it holds (its copied segments, indexes, signatures): the
   * draft's changes are gone and the active release is untouched. Packages it alone named, and the
   * blobs of indexes it generated, are left for `gc` (after its grace period), as after a removal.
   * Its id is never given to another release: a document signed for it stays refused.
   */
  async discardRelease(id: string): Promise<Outcome<DiscardedRelease>> {
    return this.#inTurn(() => this.#releases.discard(id));
  }

  /** Every release, newest first. */
  async listReleases(): Promise<Outcome<ReleaseList>> {
    return this.#withRepository(() => ok(this.#releases.list()));
  }

  /** One release: its state, its dists (changed, generated, signed) and package counts. */
  async showRelease(id: string): Promise<Outcome<ReleaseDetail>> {
    return this.#withRepository(() => this.#releases.show(id));
  }

  /** Packages in `to` but not in `from` (added) and the reverse (removed). */
  async diffReleases(from: string, to: string): Promise<Outcome<ReleaseDiff>> {
    return this.#withRepository(() => this.#membership.diff(from, to));
  }

  // publishing (publishing/: generate → the client signs → submit → activate)

  /**
   * Regenerate the dirty indexes of one dist of the open release, render its Release and return
   * the unsigned document the client signs. Indexes that are clean are reused by hash.
   */
  async generate(
    dist: string,
  ): Promise<Outcome<{ document: UnsignedIndexDocument; regenerated: string[]; reused: string[] }>> {
    return this.#inTurn((s) => this.#generator.generate(s, dist));
  }

  /**
   * Accept a signed document (DESIGN.md §3): the generation must still be current, the Release
   * text byte-equal to what this object generated, and both signatures valid by a trusted key.
   * Then InRelease and Release.gpg are stored, and the release activates once every changed
   * dist is signed (unless `activate` is false).
   */
  async submit(doc: SignedIndexDocument, options: { activate: boolean }): Promise<Outcome<Submitted>> {
    return this.#inTurn((s) => this.#submission.submit(s, doc, options));
  }

  /**
   * Make a release the served one: an open release whose changed dists are all signed, or a
   * retired one still within retention (rollback). The D1 pointer and the activation log change
   * with the object's state; until D1 confirms, the activation is not reported done.
   */
  async activate(id: string): Promise<Outcome<ActivatedRelease>> {
    return this.#inTurn((s) => this.#activation.activate(s, id));
  }

  /** The activation log, newest first. */
  async activations(): Promise<Outcome<ActivationLog>> {
    return this.#withRepository(() => ok(this.#activation.log()));
  }

  /**
   * Finish a deletion cut short (see `destroy`), or write the D1 pointer of an activation that is
   * not visible yet: one whose write failed, or whose object died before or during it (see
   * publishing/activation.ts). Taken in turn with activations, so pointers are written in the
   * order releases were activated. Retried while D1 fails; not once the repository's row is gone
   * (deleted), which would otherwise loop forever.
   */
  override async alarm(): Promise<void> {
    await this.#exclusive(async () => {
      if (await this.#maintenance.finishDestroying()) return;
      const s = this.#settings.read();
      if (s !== null) await this.#activation.retry(s);
    });
  }

  // apt serving

  /**
   * Resolve a path under the repository root, as served by `release`, to the blob holding it.
   * `path` has been split and checked by the Worker (no empty, "." or ".." segments).
   */
  async resolve(release: string, path: string): Promise<FileRef | null> {
    const s = this.#settings.live();
    return s === null ? null : this.#serving.resolve(s, release, path);
  }

  /** The release that was active at `at` (ms since the epoch), per the activation log. */
  async releaseAt(at: number): Promise<Outcome<string>> {
    return this.#withRepository((s) => this.#serving.releaseAt(s, at));
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
   * keys, and an unrevoked export of a key already revoked (`key_revoked`). In turn with submit:
   * a signature checked against the keys before this revocation cannot activate after it.
   */
  async addKey(armored: string): Promise<Outcome<KeySummary>> {
    return this.#inTurn(() => this.#keys.add(armored));
  }

  /** Every key the repository holds: trusted ones, and revoked ones (`status: "revoked"`), which sign nothing. */
  async listKeys(): Promise<Outcome<KeyList>> {
    return this.#withRepository(() => ok(this.#keys.list()));
  }

  /**
   * Stop trusting a key. A revoked key stays: its row is how the repository remembers never to
   * trust it again, and how the archive keyring tells apt clients of its revocation.
   */
  async removeKey(fingerprint: string): Promise<Outcome<RemovedKey>> {
    return this.#inTurn(() => this.#keys.remove(fingerprint));
  }

  /**
   * The archive keyring apt users install: every key the repository holds, armored and binary,
   * revoked ones with their revocation, so that clients importing it learn of it.
   */
  async keyring(): Promise<{ armored: string; binary: Uint8Array; updatedAt: number } | null> {
    return this.#settings.live() === null ? null : this.#keys.keyring();
  }

  // web pages (worker/pages/): reads only, each answer a function of the release it names

  /**
   * Package names of `release` with their newest version, for the repository page: up to `limit`
   * (1 to 200) names above `after` in name order, only those containing `query` when it is not
   * empty; `more` when further names follow.
   */
  async browsePackages(
    release: string,
    filter: { query: string; after: string; limit: number },
  ): Promise<Outcome<{ packages: PackageListing[]; more: boolean }>> {
    return this.#withRepository(() => {
      if (this.#releases.get(release) === null)
        return err("release_not_found", `no release ${release} in this repository`);
      const limit = Math.min(Math.max(Math.trunc(filter.limit), 1), 200);
      return ok(this.#browse.listing(release, { ...filter, limit }));
    });
  }

  /**
   * Every member of `release` named `name`, newest version first, with its control fields; and
   * which package names its relationship fields mention that the release holds (to link to).
   */
  async packageDetails(
    release: string,
    name: string,
  ): Promise<Outcome<{ members: PackageMember[]; linkable: string[] }>> {
    return this.#withRepository(() => {
      if (this.#releases.get(release) === null)
        return err("release_not_found", `no release ${release} in this repository`);
      const members = this.#browse.members(release, name);
      if (members.length === 0) return err("package_not_found", `no package ${name} in release ${release}`);
      return ok({ members, linkable: this.#browse.linkable(release, members) });
    });
  }

  /** Every key the repository holds (as `listKeys`), each with what makes apt refuse its signatures now or soon. */
  async describeKeys(): Promise<Outcome<{ keys: (KeySummary & { concerns: KeyConcern[] })[] }>> {
    return this.#withRepository(async () => {
      const now = Date.now();
      const records = this.#keys.all();
      const summaries = this.#keys.list().keys;
      const keys = await Promise.all(
        summaries.map(async (k, i) => {
          const record = records[i];
          return { ...k, concerns: record === undefined ? [] : await keyConcerns(record, now) };
        }),
      );
      return ok({ keys });
    });
  }

  // maintenance (admin)

  /** Counts, bytes and the dirty indexes of the open release. */
  async stats(): Promise<Outcome<Stats>> {
    return this.#withRepository((s) => ok(this.#maintenance.stats(s)));
  }

  /** Mark every index of the open release dirty (opening one from the active release), so the next generate rebuilds and re-stores all. */
  async reindex(): Promise<Outcome<Reindexed>> {
    return this.#withRepository(() => ok(this.#maintenance.reindex()));
  }

  /** Check that every blob a row points at exists in R2 with the size and SHA-256 the row claims. */
  async fsck(): Promise<Outcome<Fsck>> {
    return this.#withRepository(async (s) => ok(await this.#maintenance.fsck(s)));
  }

  /**
   * Delete what no release within retention needs: retired releases past retention, packages no
   * release refers to (after a grace period for fresh uploads), and the blobs nothing points at
   * (maintenance.ts).
   */
  async gc(options: { graceSeconds: number }): Promise<Outcome<Collected>> {
    return this.#withRepository(async (s) => ok(await this.#maintenance.gc(s, options)));
  }
}
