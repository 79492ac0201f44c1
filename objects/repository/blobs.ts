/**
 * The R2 layout (DESIGN.md §4): every `.deb` and every index file lives once under its SHA-256,
 * scoped to its repository so that one tenant can never fetch another's content by hash.
 *
 *   repos/{owner}/{name}/blobs/sha256/{hex}   content, written once, put with R2's SHA-256 check
 *   repos/{owner}/{name}/staging/{uuid}       output of unknown length while it is being hashed
 */
import { concat } from "../../deb/bytes.ts";
import { MultiHasher } from "../../deb/hash.ts";

export function blobKey(repositoryId: string, sha256: string): string {
  return `repos/${repositoryId}/blobs/sha256/${sha256}`;
}

export function blobPrefix(repositoryId: string): string {
  return `repos/${repositoryId}/blobs/sha256/`;
}

function stagingKey(repositoryId: string): string {
  return `repos/${repositoryId}/staging/${crypto.randomUUID()}`;
}

export interface BlobDigest {
  size: number;
  md5: string;
  sha256: string;
  sha512: string;
}

/** R2's minimum part size; every part but the last must have the same size. */
export const PART_SIZE = 5 * 1024 * 1024;

/** Store bytes already in memory (Release files, signatures, keyrings) at their content address. */
export async function putBytes(bucket: R2Bucket, repositoryId: string, bytes: Uint8Array): Promise<BlobDigest> {
  const hasher = new MultiHasher();
  hasher.update(bytes);
  const { size, md5, sha256, sha512 } = hasher.digest();
  const key = blobKey(repositoryId, sha256);
  if ((await bucket.head(key)) === null) await bucket.put(key, bytes, { sha256 });
  return { size, md5, sha256, sha512 };
}

/**
 * Store a stream of unknown length at its content address, holding at most one part in memory
 * (DESIGN.md §7: a whole Packages file of a large repository must never be in memory).
 *
 * The address is the hash, which is known only at the end, and R2 cannot rename. So output that
 * fits in one part is put directly; longer output goes to a staging key by multipart upload and is
 * then streamed, with its length now known, to its address (R2 re-checks the SHA-256 on that put).
 */
export async function putStream(
  bucket: R2Bucket,
  repositoryId: string,
  source: ReadableStream<Uint8Array>,
): Promise<BlobDigest> {
  const hasher = new MultiHasher();
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  let upload: R2MultipartUpload | undefined;
  const parts: R2UploadedPart[] = [];

  const flushPart = async (bytes: Uint8Array) => {
    upload ??= await bucket.createMultipartUpload(stagingKey(repositoryId));
    parts.push(await upload.uploadPart(parts.length + 1, bytes));
  };

  try {
    for await (const chunk of source) {
      hasher.update(chunk);
      pending.push(chunk);
      pendingBytes += chunk.length;
      while (pendingBytes >= PART_SIZE) {
        const joined = concat(pending);
        await flushPart(joined.subarray(0, PART_SIZE));
        const rest = joined.subarray(PART_SIZE);
        pending = rest.length > 0 ? [rest] : [];
        pendingBytes = rest.length;
      }
    }
    const digest = hasher.digest();
    const key = blobKey(repositoryId, digest.sha256);
    if (upload === undefined) {
      if ((await bucket.head(key)) === null) await bucket.put(key, concat(pending), { sha256: digest.sha256 });
      return pick(digest);
    }
    if (pendingBytes > 0) await flushPart(concat(pending));
    pending = [];
    await upload.complete(parts);
    const staged = upload.key;
    upload = undefined;
    try {
      if ((await bucket.head(key)) === null) {
        const object = await bucket.get(staged);
        if (object === null) throw new Error(`staged index ${staged} vanished before it was moved`);
        await bucket.put(key, object.body.pipeThrough(new FixedLengthStream(digest.size)), { sha256: digest.sha256 });
      }
    } finally {
      await bucket.delete(staged);
    }
    return pick(digest);
  } catch (cause) {
    if (upload !== undefined) await upload.abort().catch(() => undefined);
    throw new Error("storing a generated file in R2 failed", { cause });
  }
}

function pick(d: BlobDigest): BlobDigest {
  return { size: d.size, md5: d.md5, sha256: d.sha256, sha512: d.sha512 };
}
