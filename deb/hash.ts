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

/** Size and hex digests of the named algorithms (node:crypto names), computed in one pass. */
class Digests<K extends string> {
  readonly #hashes: [K, Hash][];
  #size = 0;

  constructor(algorithms: Record<K, string>) {
    this.#hashes = (Object.entries(algorithms) as [K, string][]).map(([k, name]) => [k, createHash(name)]);
  }

  update(chunk: Uint8Array): void {
    this.#size += chunk.length;
    for (const [, h] of this.#hashes) h.update(chunk);
  }

  digest(): { size: number } & Record<K, string> {
    const out = { size: this.#size } as { size: number } & Record<K, string>;
    for (const [k, h] of this.#hashes) (out as Record<K, string>)[k] = h.digest("hex");
    return out;
  }
}

export class MultiHasher extends Digests<"md5" | "sha1" | "sha256" | "sha512"> {
  constructor() {
    super({ md5: "md5", sha1: "sha1", sha256: "sha256", sha512: "sha512" });
  }
}

/** What a Release lists for an index file: size, MD5Sum, SHA256 and SHA512 (deb/release.ts). */
export type IndexFileHashes = Omit<FileHashes, "sha1">;

/**
 * MultiHasher without SHA-1, for index files: deb/release.ts writes no SHA1 list (apt needs SHA256;
 * Debian's own bookworm Release carries only MD5Sum and SHA256), and a full publish of 63,000
 * packages would hash 10 MiB of Packages.gz with it only to throw the digest away.
 */
export class IndexFileHasher extends Digests<"md5" | "sha256" | "sha512"> {
  constructor() {
    super({ md5: "md5", sha256: "sha256", sha512: "sha512" });
  }
}

const HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, "0"));

/**
 * Lowercase hex of bytes: how digests are spelled in Debian indexes and in R2 keys. The one hex
 * encoder of the project (node:crypto's `digest("hex")` aside).
 */
export function toHex(bytes: Uint8Array | ArrayBuffer): string {
  const view = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  let hex = "";
  for (const b of view) hex += HEX[b];
  return hex;
}

/** `bytes` random bytes (crypto.getRandomValues) as hex: fresh ids and nonces. */
export function randomHex(bytes: number): string {
  return toHex(crypto.getRandomValues(new Uint8Array(bytes)));
}

/** Hash bytes already in memory (index files, small fixtures). */
export function hashBytes(bytes: Uint8Array): FileHashes {
  const hasher = new MultiHasher();
  hasher.update(bytes);
  return hasher.digest();
}
