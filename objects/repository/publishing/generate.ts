/**
 * The first step of publishing (DESIGN.md §3): regenerate the dirty indexes of one dist of the
 * open release, render its Release and return the unsigned document the client signs. Indexes
 * that are clean are reused by hash; in a dirty one only the dirty chunks are rendered again
 * (index-writer.ts). The client signs the document (`armor index sign`), and submit.ts takes it
 * back.
 */
import { renderRelease } from "../../../deb/release.ts";
import { putBytes } from "../../../r2/blobs.ts";
import { INDEX_DOCUMENT_FORMAT, type UnsignedIndexDocument } from "../../../schema/index-document.ts";
import { FIRST_KEY, type IndexKey } from "../index-keys.ts";
import { err, type Outcome, ok } from "../outcome.ts";
import type { Releases } from "../releases.ts";
import type { IndexRow, Segments } from "../segments.ts";
import type { Settings } from "../settings.ts";
import type { Dists } from "./dists.ts";
import { CHUNK_BYTES, IndexHasher, type WrittenChunk, writeChunks } from "./index-writer.ts";
import type { Indexes, IndexFileRecord } from "./indexes.ts";

/**
 * Rows per page when streaming a Packages index out of SQLite: about 0.7 MiB of stanzas. Each page
 * is a query that seeks from the segment holding the last key; at 500 rows a full generate of
 * 63,000 spent a tenth of its time starting queries.
 */
const INDEX_PAGE_ROWS = 1000;
/** Attempts at a consistent generate while uploads keep changing the release. */
const GENERATE_ATTEMPTS = 5;

export class ReleaseGenerator {
  readonly #storage: DurableObjectStorage;
  readonly #bucket: () => R2Bucket;
  readonly #releases: Releases;
  readonly #segments: Segments;
  readonly #indexes: Indexes;
  readonly #dists: Dists;

  constructor(
    storage: DurableObjectStorage,
    bucket: () => R2Bucket,
    parts: { releases: Releases; segments: Segments; indexes: Indexes; dists: Dists },
  ) {
    this.#storage = storage;
    this.#bucket = bucket;
    this.#releases = parts.releases;
    this.#segments = parts.segments;
    this.#indexes = parts.indexes;
    this.#dists = parts.dists;
  }

  /**
   * The unsigned document of `dist` at the open release's current generation. One generation,
   * one document: publishers racing on the same generation all get the same Release text (and
   * Date), so whichever signature arrives first is valid for all of them.
   */
  async generate(
    s: Settings,
    dist: string,
  ): Promise<Outcome<{ document: UnsignedIndexDocument; regenerated: string[]; reused: string[] }>> {
    const open = this.#releases.inState("open");
    if (open === null) {
      return err("no_open_release", "there is no open release to publish; add packages or create a release first");
    }
    const current = this.#dists.dist(open.id, dist);
    if (current === null) {
      return err("dist_not_found", `dist ${dist} has no packages in release ${open.id}`);
    }
    const document = (text: string, at: number): UnsignedIndexDocument => ({
      format: INDEX_DOCUMENT_FORMAT,
      repository: s.id,
      dist,
      release: open.id,
      generation: open.generation,
      generated_at: new Date(at).toISOString(),
      release_text: text,
    });
    if (
      current.generatedGeneration === open.generation &&
      current.releaseText !== null &&
      current.generatedAt !== null
    ) {
      const reused = this.#indexes.scopes(open.id, dist).map((x) => `${x.component}/binary-${x.architecture}`);
      return ok({ document: document(current.releaseText, current.generatedAt), regenerated: [], reused });
    }
    // Uploads may change the release while indexes stream to R2; then generate again, so the
    // document always describes one generation exactly.
    for (let attempt = 1; attempt <= GENERATE_ATTEMPTS; attempt++) {
      const generation = this.#releases.generationOf(open.id);
      const { regenerated, reused } = await this.#regenerate(s, open.id, dist, generation);
      if (this.#releases.generationOf(open.id) !== generation) continue;
      const generatedAt = Date.now();
      const text = this.#releaseText(s, open.id, dist, generatedAt);
      this.#dists.setGenerated(open.id, dist, text, generation, generatedAt);
      const doc = { ...document(text, generatedAt), generation };
      return ok({ document: doc, regenerated, reused });
    }
    return err(
      "stale_generation",
      `release ${open.id} kept changing while its indexes were generated (uploads are still arriving); run armor index generate again`,
    );
  }

  /** The (component, architecture) indexes a dist has: every component times every architecture. */
  #wantedScopes(release: string, dist: string): { component: string; architecture: string }[] {
    const archs = this.#segments.architectures(release, dist);
    const real = archs.filter((a) => a !== "all");
    // `all` packages are listed in every architecture's index; a dist with nothing else gets binary-all.
    const indexArchs = real.length > 0 ? real : archs;
    return this.#segments
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
    const existing = this.#indexes.scopes(release, dist);
    const key = (x: { component: string; architecture: string }) => `${x.component}/binary-${x.architecture}`;
    const wantedKeys = new Set(wanted.map(key));
    for (const x of existing)
      if (!wantedKeys.has(key(x))) this.#indexes.deleteScope(release, dist, x.component, x.architecture);
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
    const bucket = this.#bucket();
    const before = this.#indexes.chunks(release, dist, scope.component, scope.architecture);
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

    this.#storage.transactionSync(() => {
      // A change that landed while this ran bumped its chunk's counter (or, in an index that had
      // no chunks, only the generation): keep what it touched dirty for the next generate.
      const now = new Map(
        this.#indexes
          .chunks(release, dist, scope.component, scope.architecture)
          .map((c) => [c.start.join("\0"), c.dirty]),
      );
      const seen = new Map(before.map((c) => [c.start.join("\0"), c.dirty]));
      const changed = this.#releases.generationOf(release) !== generation;
      const saved = chunks.map(({ source, plain: _, ...c }) => {
        const was = source === null ? undefined : seen.get(source.join("\0"));
        const is = source === null ? undefined : now.get(source.join("\0"));
        const stale = source === null ? changed : was !== is;
        return { ...c, dirty: stale ? 1 : 0 };
      });
      const stillDirty = saved.some((c) => c.dirty > 0) || (before.length === 0 && changed);
      this.#indexes.saveScope(release, dist, scope.component, scope.architecture, files, saved, stillDirty);
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
      const page = this.#segments.indexPage(release, dist, scope.component, scope.architecture, range, INDEX_PAGE_ROWS);
      yield* page;
      const last = page.at(-1);
      if (last === undefined || page.length < INDEX_PAGE_ROWS) return;
      range = { after: last.key, inclusive: false, before };
    }
  }

  #releaseText(s: Settings, release: string, dist: string, at: number): string {
    const files = this.#indexes.indexFiles(release, dist);
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
}
