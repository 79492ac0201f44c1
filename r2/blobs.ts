/**
 * The R2 layout (DESIGN.md §4): every `.deb` and every index file lives once under its SHA-256,
 * scoped to one lifetime of one repository, so that one tenant can never fetch another's content
 * by hash, and a repository deleted and created again under the same id shares nothing with its
 * predecessor (DESIGN.md §4b):
 *
 *   repos/{owner}/{name}/{uid}/blobs/sha256/{hex}     content, written once, put with R2's SHA-256 check
 *   repos/{owner}/{name}/{uid}/uploads/{hex}/{nonce}  one multipart upload's parts, assembled; read back,
 *                                                    verified and copied to its content address, then deleted
 *   repos/{owner}/{name}/blobs/…, …/uploads/…        the same, for a repository created before uids
 *
 * A blob is a `.deb`, an index file or chunk, a signature, or a pack: the new `.deb` files of one
 * batch upload back to back (putPack), each package recording its pack and offset.
 *
 * The Worker (uploads, apt serving) and the repository's Durable Object (index chunks, Release
 * files, fsck, gc, deletion) both read and write this layout; this module is the one place it is
 * spelled.
 */
import { createHash } from "node:crypto";
import { MultiHasher, randomHex } from "../deb/hash.ts";

/**
 * What one lifetime of a repository is named by: its id and its creation id (`uid`, random, set when
 * it is created, never reused). Its Durable Object is `idFromName(scope)`, its blobs live under
 * `repos/{scope}/`, and the edge cache keys its answers by it, so nothing of a deleted repository is
 * reachable from its successor. A uid is 32 hex digits, never "blobs", so a legacy repository's
 * prefix `repos/{id}/blobs/` never covers a successor's `repos/{id}/{uid}/blobs/`.
 */
export function repositoryScope(id: string, uid: string | null): string {
  return uid === null ? id : `${id}/${uid}`;
}

/** A new creation id: 128 random bits as hex. */
export function newRepositoryUid(): string {
  return randomHex(16);
}

export function blobKey(scope: string, sha256: string): string {
  return `repos/${scope}/blobs/sha256/${sha256}`;
}

export function blobPrefix(scope: string): string {
  return `repos/${scope}/blobs/sha256/`;
}

/**
 * Where one multipart upload is assembled: a key of its own (the nonce is fresh per upload), never
 * a content address. Parts are untrusted until the whole is read back and verified, and an upload
 * assembled at its content address would replace whatever is stored there, a published file
 * included, before anything could be checked (DESIGN.md §4b).
 */
export function stagingKey(scope: string, sha256: string, nonce: string): string {
  return `${stagingPrefix(scope)}${sha256}/${nonce}`;
}

export function stagingPrefix(scope: string): string {
  return `repos/${scope}/uploads/`;
}

/**
 * Every prefix a lifetime of a repository writes under: its blobs and its staging. A repository
 * from before uids lists `repos/{id}/blobs/`, which never covers a successor's `repos/{id}/{uid}/…`.
 */
export function repositoryPrefixes(scope: string): string[] {
  return [`repos/${scope}/blobs/`, stagingPrefix(scope)];
}

export interface BlobDigest {
  size: number;
  md5: string;
  sha256: string;
  sha512: string;
}

/** R2's minimum part size for multipart uploads; every part but the last must have the same size. */
export const PART_SIZE = 5 * 1024 * 1024;

/** Store bytes already in memory (Release files, signatures, keyrings) at their content address. */
export async function putBytes(bucket: R2Bucket, scope: string, bytes: Uint8Array): Promise<BlobDigest> {
  const hasher = new MultiHasher();
  hasher.update(bytes);
  const { size, md5, sha256, sha512 } = hasher.digest();
  await putNew(bucket, scope, sha256, bytes);
  return { size, md5, sha256, sha512 };
}

/**
 * Put a blob whose SHA-256 the caller computed (R2 checks it) unless its address is taken: blobs
 * are written once, never overwritten. One conditional put (If-None-Match: *, which R2 checks
 * atomically) rather than a head and then a put: one R2 operation instead of two, and no window
 * between them. Returns whether it wrote.
 */
export async function putNew(
  bucket: R2Bucket,
  scope: string,
  sha256: string,
  body: Uint8Array | Blob | ReadableStream<Uint8Array>,
): Promise<boolean> {
  const put = await bucket.put(blobKey(scope, sha256), body, { sha256, onlyIf: { etagDoesNotMatch: "*" } });
  return put !== null;
}

/**
 * Store verified files, each under its SHA-256 in `members`, as one pack: their bytes back to back,
 * put once at the pack's own SHA-256 (R2 re-checks it). Each package then records its pack and
 * offset, and apt is served a range of the pack (concatenatedBlobs). One R2 write a batch, not one
 * a file: every write is a billed Class A operation with its own latency, and locally each costs
 * miniflare's R2 simulator about 2 ms of CPU on the thread that also runs the Worker, which made
 * it two thirds of an ingest (bench/RESULTS.md). A lone file is stored at its own address, and
 * is not packed. Returns each packed file's place.
 */
export async function putPack(
  bucket: R2Bucket,
  scope: string,
  members: ReadonlyMap<string, Blob>,
): Promise<Map<string, { pack: string; offset: number }>> {
  const only = members.size === 1 ? [...members][0] : undefined;
  if (only !== undefined) {
    const [sha256, body] = only;
    await putNew(bucket, scope, sha256, body);
    return new Map();
  }
  if (members.size === 0) return new Map();
  // Hashed first, one file at a time, so that no copy of the whole pack is ever made: the put
  // then streams the files again, each read when R2 asks for more.
  const hash = createHash("sha256");
  const bodies = [...members.values()];
  const offsets: [string, number][] = [];
  let offset = 0;
  for (const [sha256, body] of members) {
    hash.update(new Uint8Array(await body.arrayBuffer()));
    offsets.push([sha256, offset]);
    offset += body.size;
  }
  const pack = hash.digest("hex");
  const packed = new Map(offsets.map(([sha256, at]) => [sha256, { pack, offset: at }]));
  let next = 0;
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const body = bodies[next++];
      if (body === undefined) controller.close();
      else controller.enqueue(new Uint8Array(await body.arrayBuffer()));
    },
  });
  await putNew(bucket, scope, pack, stream.pipeThrough(new FixedLengthStream(offset)));
  return packed;
}

/**
 * Parts of a concatenated file requested before their turn. With the one being read that is four R2
 * reads open at once, below the six connections a Worker invocation may hold open together.
 */
const PARTS_AHEAD = 3;

/**
 * A run of bytes of one stored object: a whole chunk of a Packages.gz kept as its chunks' gzip
 * members, or one `.deb` inside the pack its batch upload was stored as (`offset` into the pack).
 */
export interface BlobPart {
  sha256: string;
  size: number;
  /** Where the part starts within the object at `sha256`; 0 when absent (the whole object). */
  offset?: number;
}

/**
 * The bytes of `parts` back to back, or the `range` of them, as one stream. The next
 * PARTS_AHEAD parts are requested from R2 while one is streamed: one after another, a Packages.gz
 * of 80 chunks would wait for 80 R2 round trips in turn. Their bodies are read only in order, so
 * what is held is what R2 and the runtime buffer for an unread body, not whole parts.
 */
export function concatenatedBlobs(
  bucket: R2Bucket,
  scope: string,
  parts: readonly BlobPart[],
  range?: { offset: number; length: number },
): ReadableStream<Uint8Array> {
  const total = parts.reduce((n, p) => n + p.size, 0);
  const start = range?.offset ?? 0;
  const end = range === undefined ? total : Math.min(total, range.offset + range.length);
  const pieces: { sha256: string; range: { offset: number; length: number } }[] = [];
  let at = 0;
  for (const p of parts) {
    const from = Math.max(start, at);
    const to = Math.min(end, at + p.size);
    if (from < to) pieces.push({ sha256: p.sha256, range: { offset: (p.offset ?? 0) + from - at, length: to - from } });
    at += p.size;
  }
  let next = 0;
  const ahead: Promise<R2ObjectBody>[] = [];
  // Set by cancel: a pull still under way when the client went away requests nothing more.
  let cancelled = false;
  const requestAhead = () => {
    while (!cancelled && ahead.length < PARTS_AHEAD && next < pieces.length) {
      const { sha256, range } = pieces[next++] as (typeof pieces)[number];
      const object = bucket.get(blobKey(scope, sha256), { range }).then((o) => {
        if (o === null) throw new Error(`part ${sha256} of a stored file is missing from R2`);
        return o;
      });
      // Observed now, thrown when its turn comes: a part that fails while an earlier one streams,
      // or is never read because the client went away, is not an unhandled rejection.
      object.catch(() => undefined);
      ahead.push(object);
    }
  };
  let reader: ReadableStreamDefaultReader<Uint8Array> | null = null;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      for (;;) {
        if (cancelled) return;
        if (reader === null) {
          requestAhead();
          const object = ahead.shift();
          if (object === undefined) {
            controller.close();
            return;
          }
          const { body } = await object;
          if (cancelled) {
            await body.cancel();
            return;
          }
          reader = body.getReader();
          requestAhead();
        }
        const { done, value } = await reader.read();
        if (!done) {
          controller.enqueue(value);
          return;
        }
        reader = null;
      }
    },
    async cancel(reason) {
      cancelled = true;
      // Parts requested ahead and never read are cancelled too, so R2 stops sending them.
      for (const object of ahead.splice(0)) object.then((o) => o.body.cancel(reason)).catch(() => undefined);
      await reader?.cancel(reason);
    },
  });
}
