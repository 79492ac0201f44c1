/**
 * The four digests a Debian index can list, plus the size, computed in one pass over a stream.
 * node:crypto is available in workerd under `nodejs_compat` and in Node, so one implementation
 * serves both runtimes (WebCrypto has no incremental digest, and DigestStream is workerd-only).
 */
import { createHash, type Hash } from "node:crypto";

export interface FileHashes {
  size: number;
  md5: string;
  sha1: string;
  sha256: string;
  sha512: string;
}

export class MultiHasher {
  readonly #hashes: [Hash, Hash, Hash, Hash] = [
    createHash("md5"),
    createHash("sha1"),
    createHash("sha256"),
    createHash("sha512"),
  ];
  #size = 0;

  update(chunk: Uint8Array): void {
    this.#size += chunk.length;
    for (const h of this.#hashes) h.update(chunk);
  }

  digest(): FileHashes {
    const [md5, sha1, sha256, sha512] = this.#hashes;
    return {
      size: this.#size,
      md5: md5.digest("hex"),
      sha1: sha1.digest("hex"),
      sha256: sha256.digest("hex"),
      sha512: sha512.digest("hex"),
    };
  }
}

/** What a Release lists for an index file: size, MD5Sum, SHA256 and SHA512 (deb/release.ts). */
export type IndexFileHashes = Omit<FileHashes, "sha1">;

/**
 * MultiHasher without SHA-1, for index files: deb/release.ts writes no SHA1 list (apt needs SHA256;
 * Debian's own bookworm Release carries only MD5Sum and SHA256), and a full publish of 63,000
 * packages would hash 10 MiB of Packages.gz with it only to throw the digest away.
 */
export class IndexFileHasher {
  readonly #hashes: [Hash, Hash, Hash] = [createHash("md5"), createHash("sha256"), createHash("sha512")];
  #size = 0;

  update(chunk: Uint8Array): void {
    this.#size += chunk.length;
    for (const h of this.#hashes) h.update(chunk);
  }

  digest(): IndexFileHashes {
    const [md5, sha256, sha512] = this.#hashes;
    return { size: this.#size, md5: md5.digest("hex"), sha256: sha256.digest("hex"), sha512: sha512.digest("hex") };
  }
}

/** Hash bytes already in memory (index files, small fixtures). */
export function hashBytes(bytes: Uint8Array): FileHashes {
  const hasher = new MultiHasher();
  hasher.update(bytes);
  return hasher.digest();
}
