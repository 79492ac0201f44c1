/**
 * Packages indexes as key-ranged chunks (migration 2), so that publishing one more package costs
 * one chunk, not the whole index (issue 7: one package on top of 63,000 under a second).
 *
 * A chunk is a run of stanzas in (name, version, architecture) order, about CHUNK_BYTES of text,
 * stored as one gzip member at its content address. `Packages.gz` is the chunks' members
 * concatenated, which is a valid gzip file (RFC 1952 §2.2: "a gzip file consists of a series of
 * members"; zlib's gzread, which apt uses, reads them all). It is served as those members read
 * from R2 one after another (FileRef.parts), never stored whole: only hashing it for the Release
 * reads the whole index, one member at a time (about 9 MiB of gzip at 63,000 packages, DESIGN.md §7).
 *
 * The uncompressed `Packages` is stored only for an index of one chunk. A larger index lists it in
 * the Release by size and SHA-256 without storing it, as Debian's archive does: apt looks an index
 * up under that name and checks the decompressed text against it, but fetches `Packages.gz`.
 * Storing 40 MiB of text on every publish would cost more than everything else together.
 *
 * No `.xz`: workerd has no xz encoder and none in pure JavaScript is maintained on npm.
 */
import { createHash } from "node:crypto";
import { gunzipSync, gzipSync } from "node:zlib";
import { IndexFileHasher } from "../../../deb/hash.ts";
import { type BlobDigest, blobKey, putBytes, putNew } from "../../../r2/blobs.ts";
import type { IndexKey } from "../index-keys.ts";
import type { IndexRow } from "../segments.ts";
import type { ChunkRecord } from "./indexes.ts";

/**
 * A chunk is cut once its text reaches this size; a smaller tail is merged into the chunk before it.
 * Each chunk is one R2 object, and a put costs per request as well as per byte, so larger chunks
 * make a full publish cheaper, and serving Packages.gz reads fewer objects: 40 at 63,000 packages.
 * Generation holds two chunks of text as bytes (ChunkText), the member being written and the
 * members in flight. With chunks of 1 MiB rendered as strings the isolate's measured peak during
 * a full publish of 63,000 was 110 MiB, so they were 512 KiB for a while; rendered as bytes it is
 * 67 MiB at most over three runs (bench/RESULTS.md, fourth round).
 */
export const CHUNK_BYTES = 1024 * 1024;

/**
 * zlib level 3. On Debian's bookworm Packages text (40 MiB, in chunks of 512 KiB) it compresses at
 * about twice the speed of the default level 6 for 9% more bytes (10.1 against 9.3 MiB); a full
 * publish of a large dist spends most of its time here. Level 9 saves 1% more at 2.5 times the cost.
 */
const GZIP_LEVEL = 3;

/**
 * R2 operations in flight while generation goes on: chunk writes while the next chunks render, and
 * reads of stored chunks ahead of the one being hashed. One at a time, R2's latency per request
 * (milliseconds in production) would add up over the 40 chunks of a 63,000-package index.
 */
const R2_IN_FLIGHT = 4;

/** A chunk as generation produces it: stored, with the old chunk it came from (for dirty tracking). */
export interface WrittenChunk extends ChunkRecord {
  /** The start of the chunk it replaces or keeps; null when the index had no chunks. */
  source: IndexKey | null;
  /** The uncompressed text, kept only while it is the only chunk its render produced. */
  plain: Uint8Array | null;
}

/**
 * Render `entries` (one key range, in key order) into chunks of about CHUNK_BYTES, each gzipped and
 * stored, and fed to `hasher` in order. The first chunk starts at `start`; later ones at their
 * first stanza's key. Holds at most two chunks of text: the one being filled and the one before
 * it, which a short tail joins.
 */
export async function writeChunks(
  bucket: R2Bucket,
  repositoryId: string,
  start: IndexKey,
  source: IndexKey | null,
  entries: Iterable<IndexRow>,
  hasher: IndexHasher | null = null,
): Promise<WrittenChunk[]> {
  const written: WrittenChunk[] = [];
  const puts = new InFlight(R2_IN_FLIGHT);
  const store = async (chunk: ChunkText) => {
    const plain = chunk.bytes();
    const member = gzip(plain);
    hasher?.add(member, plain);
    // A chunk's row needs only its member's SHA-256 (the Release lists Packages.gz's, from `hasher`).
    const digest = { sha256: createHash("sha256").update(member).digest("hex"), size: member.length };
    await puts.add(putNew(bucket, repositoryId, digest.sha256, member).then(() => undefined));
    for (const w of written) w.plain = null;
    written.push({
      start: chunk.start,
      stanzas: chunk.stanzas,
      plainSize: plain.length,
      gzipSha256: digest.sha256,
      gzipSize: digest.size,
      dirty: 0,
      source,
      plain: written.length === 0 ? plain.slice() : null,
    });
  };

  // Two buffers, swapped as chunks are cut, so that rendering a large index does not leave a
  // chunk-sized buffer per chunk for V8 to collect.
  let held: ChunkText | null = null;
  let current = new ChunkText(start);
  let spare: ChunkText | null = null;
  for (const { key, stanza } of entries) {
    if (current.size >= CHUNK_BYTES) {
      if (held !== null) {
        await store(held);
        spare = held;
      }
      held = current;
      current = spare?.reset(key) ?? new ChunkText(key);
      spare = null;
    }
    current.add(stanza);
  }
  if (held !== null && current.size < CHUNK_BYTES / 2) {
    held.join(current);
    current = current.reset(held.start);
  }
  if (held !== null) await store(held);
  if (current.stanzas > 0) await store(current);
  await puts.drain();
  return written;
}

/**
 * A chunk's text as it is rendered: each stanza encoded straight into one growing buffer, with the
 * blank line after it, instead of concatenated into a string that is then encoded whole.
 */
class ChunkText {
  static readonly #encoder = new TextEncoder();
  #buffer = new Uint8Array(CHUNK_BYTES * 2);
  size = 0;
  stanzas = 0;
  start: IndexKey;

  constructor(start: IndexKey) {
    this.start = start;
  }

  reset(start: IndexKey): this {
    this.start = start;
    this.size = 0;
    this.stanzas = 0;
    return this;
  }

  /** Append a stanza (ending in "\n") and the "\n" that ends its paragraph. */
  add(stanza: string): void {
    // UTF-8 takes at most 3 bytes per UTF-16 unit.
    this.#reserve(stanza.length * 3 + 1);
    this.size += ChunkText.#encoder.encodeInto(stanza, this.#buffer.subarray(this.size)).written;
    this.#buffer[this.size++] = 0x0a;
    this.stanzas++;
  }

  /** Append the text of the chunk after this one. */
  join(next: ChunkText): void {
    this.#reserve(next.size);
    this.#buffer.set(next.bytes(), this.size);
    this.size += next.size;
    this.stanzas += next.stanzas;
  }

  /** The text so far; valid until the next change. */
  bytes(): Uint8Array {
    return this.#buffer.subarray(0, this.size);
  }

  #reserve(bytes: number): void {
    if (this.size + bytes <= this.#buffer.length) return;
    const grown = new Uint8Array(Math.max(this.#buffer.length * 2, this.size + bytes));
    grown.set(this.bytes());
    this.#buffer = grown;
  }
}

/**
 * At most `limit` promises pending: `add` waits for the oldest once the limit is reached. The
 * first failure is thrown by the next `add` or by `drain`; later ones are dropped, never left
 * unhandled.
 */
class InFlight {
  readonly #limit: number;
  readonly #pending: Promise<void>[] = [];
  #failure: { error: unknown } | null = null;

  constructor(limit: number) {
    this.#limit = limit;
  }

  async add(work: Promise<void>): Promise<void> {
    this.#pending.push(
      work.catch((error: unknown) => {
        this.#failure ??= { error };
      }),
    );
    if (this.#pending.length >= this.#limit) await this.#pending.shift();
    this.#throwIfFailed();
  }

  async drain(): Promise<void> {
    await Promise.all(this.#pending.splice(0));
    this.#throwIfFailed();
  }

  #throwIfFailed(): void {
    if (this.#failure !== null) throw this.#failure.error;
  }
}

/** Packages.gz's digest (as concatenated members) and the uncompressed text's size and SHA-256. */
export interface ComposedIndex {
  gzip: BlobDigest;
  plain: { size: number; sha256: string };
}

/**
 * Hashes an index as its chunks go by in key order: the concatenation of their gzip members, which
 * is Packages.gz, and the text it decompresses to, which the Release lists as Packages. A chunk
 * just rendered is hashed from memory; a stored one (`addStored`) is read back from R2 and
 * decompressed. Nothing is written: Packages.gz is served as its chunks (FileRef.parts), since
 * storing it whole would mean a second pass, the address being the hash of the whole.
 */
export class IndexHasher {
  readonly #gzip = new IndexFileHasher();
  readonly #plain = createHash("sha256");
  #plainSize = 0;
  #chunks = 0;

  add(member: Uint8Array, plain: Uint8Array): void {
    this.#gzip.update(member);
    this.#plain.update(plain);
    this.#plainSize += plain.length;
    this.#chunks++;
  }

  /**
   * Stored chunks, in key order: one member decompressed at a time, the next R2_IN_FLIGHT read
   * ahead. Whole members through zlib: streaming them through DecompressionStream measured slower
   * and no smaller at the isolate's peak.
   */
  async addStored(
    bucket: R2Bucket,
    repositoryId: string,
    chunks: readonly Pick<ChunkRecord, "gzipSha256" | "plainSize">[],
  ): Promise<void> {
    const read = (chunk: Pick<ChunkRecord, "gzipSha256">): Promise<Uint8Array> => {
      const reading = bucket.get(blobKey(repositoryId, chunk.gzipSha256)).then(async (object) => {
        if (object === null) throw new Error(`index chunk ${chunk.gzipSha256} is missing from R2`);
        return new Uint8Array(await object.arrayBuffer());
      });
      // Observed now, thrown when awaited: a read ahead that fails while an earlier chunk is being
      // hashed, or is never awaited because that one failed, is not an unhandled rejection.
      reading.catch(() => undefined);
      return reading;
    };
    const reads = chunks.slice(0, R2_IN_FLIGHT).map(read);
    for (const [i, chunk] of chunks.entries()) {
      const member = await (reads.shift() as Promise<Uint8Array>);
      const ahead = chunks[i + R2_IN_FLIGHT];
      if (ahead !== undefined) reads.push(read(ahead));
      const text = gunzipSync(member);
      if (text.length !== chunk.plainSize) {
        throw new Error(`index chunk ${chunk.gzipSha256} holds ${text.length} bytes of text, not ${chunk.plainSize}`);
      }
      this.add(member, text);
    }
  }

  /** The digests, once every chunk is in; an index of no chunks is an empty gzip file, stored here. */
  async digest(bucket: R2Bucket, repositoryId: string): Promise<ComposedIndex> {
    if (this.#chunks === 0) {
      const empty = await putBytes(bucket, repositoryId, gzip(new Uint8Array()));
      return { gzip: empty, plain: { size: 0, sha256: this.#plain.digest("hex") } };
    }
    return { gzip: this.#gzip.digest(), plain: { size: this.#plainSize, sha256: this.#plain.digest("hex") } };
  }
}

function gzip(bytes: Uint8Array): Uint8Array {
  const out = gzipSync(bytes, { level: GZIP_LEVEL });
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}
