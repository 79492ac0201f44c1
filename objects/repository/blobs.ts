/**
 * The R2 layout (DESIGN.md §4): every `.deb` and every index file lives once under its SHA-256,
 * scoped to its repository so that one tenant can never fetch another's content by hash.
 *
 *   repos/{owner}/{name}/blobs/sha256/{hex}   content, written once, put with R2's SHA-256 check
 */
import { MultiHasher } from "../../deb/hash.ts";

export function blobKey(repositoryId: string, sha256: string): string {
  return `repos/${repositoryId}/blobs/sha256/${sha256}`;
}

export function blobPrefix(repositoryId: string): string {
  return `repos/${repositoryId}/blobs/sha256/`;
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
export async function putBytes(bucket: R2Bucket, repositoryId: string, bytes: Uint8Array): Promise<BlobDigest> {
  const hasher = new MultiHasher();
  hasher.update(bytes);
  const { size, md5, sha256, sha512 } = hasher.digest();
  const key = blobKey(repositoryId, sha256);
  if ((await bucket.head(key)) === null) await bucket.put(key, bytes, { sha256 });
  return { size, md5, sha256, sha512 };
}
