/**
 * API tokens: `armor_<prefix>_<secret>`.
 *
 * - `prefix`: 8 random characters of RFC 4648 base32 (lowercase), public: it finds the token's row
 *   and lets a person recognize the token in a listing. 40 bits, so collisions are rare; creation
 *   retries on one.
 * - `secret`: 32 random bytes, base64url (43 characters).
 * - Only the SHA-256 of the whole token is stored (hex). A fast hash is enough: the secret has 256
 *   bits of entropy, so there is nothing to brute-force that a slow hash would protect.
 */
import { createHash, randomBytes, randomInt, timingSafeEqual } from "node:crypto";

const BASE32 = "abcdefghijklmnopqrstuvwxyz234567";
const PREFIX_LENGTH = 8;
const SECRET_BYTES = 32;

/** The token's shape. base64url uses `_` too, so the secret is everything after the second `_`. */
const TOKEN = /^armor_([a-z2-7]{8})_([A-Za-z0-9_-]{43,200})$/;

export interface NewToken {
  /** The whole token, to show once. */
  token: string;
  prefix: string;
  /** SHA-256 of the whole token, hex: what the database keeps. */
  hash: string;
}

/** A fresh random token. */
export function generateToken(): NewToken {
  let prefix = "";
  for (let i = 0; i < PREFIX_LENGTH; i++) prefix += BASE32[randomInt(BASE32.length)];
  const token = `armor_${prefix}_${randomBytes(SECRET_BYTES).toString("base64url")}`;
  return { token, prefix, hash: hashToken(token) };
}

/** The parts of a token given from outside (ARMOR_BOOTSTRAP_TOKEN), or null when it is not one. */
export function tokenFrom(token: string): NewToken | null {
  const prefix = prefixOf(token);
  return prefix === null ? null : { token, prefix, hash: hashToken(token) };
}

/** The token's public prefix, or null when the text is not shaped like a token. */
export function prefixOf(token: string): string | null {
  return TOKEN.exec(token)?.[1] ?? null;
}

/** The public form of a prefix, as listings show it: `armor_abcd2345`. */
export function displayPrefix(prefix: string): string {
  return `armor_${prefix}`;
}

/** SHA-256 of the whole token, hex: the only form the database holds. */
export function hashToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

/** Compare two SHA-256 hex digests in constant time. */
export function hashesEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, "hex");
  const y = Buffer.from(b, "hex");
  // Both are always 32 bytes here; the length check only guards against a malformed stored hash.
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * What a token that matches no row is compared against, so an unknown or malformed token costs
 * the same work (one hash, one lookup, one comparison) as a real one.
 */
export const DUMMY_HASH = hashToken(`armor_aaaaaaaa_${"A".repeat(43)}`);
