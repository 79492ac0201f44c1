/**
 * Will apt accept signatures by this key? What the repository page warns its users and owners
 * about (worker/pages/). openpgp.js, which checks signatures here, accepts some keys that apt
 * refuses or will refuse, and apt's acceptance changes with the date:
 *
 * - apt in Debian 13 verifies with Sequoia's sqv, whose policy (apt's crypto policy, Debian bug
 *   #1109665) refuses DSA and RSA under 2048 bits already; SHA-1 and SHA-224 self-signatures and
 *   v3 signatures from 2026-02-01; Brainpool curves from 2028-02-01; RSA under 3072 bits from
 *   2030-02-01; and warns ("Policy will reject signature within a year") a year before each date.
 * - apt 2.7.13 and later (Ubuntu 24.04) hand gpgv `APT::Key::Assert-Pubkey-Algo`, which accepts
 *   RSA of 2048 bits or more, ed25519, ed448 and the NIST curves only: Brainpool and secp256k1 are
 *   refused there already.
 * - A key past its expiry makes apt refuse what it signed (EXPKEYSIG, apt-secure(8)); users hold a
 *   copy of the key, so an extended expiry reaches them only when they fetch the keyring again.
 *
 * Pure functions over the armored key: no bindings and no I/O.
 */
import { enums, type Key, readKeys, type SignaturePacket, type Subkey } from "openpgp";

export interface KeyConcern {
  /** `refused`: apt (in a current release) refuses this key's signatures now; `warning`: it will, or soon. */
  level: "refused" | "warning";
  message: string;
}

const DAY_MS = 86_400_000;
/** How far ahead an expiry is worth a warning: time to extend the key and for users to fetch it again. */
export const EXPIRY_WARNING_DAYS = 90;
const SHA1_CUTOFF = Date.UTC(2026, 1, 1);
const BRAINPOOL_CUTOFF = Date.UTC(2028, 1, 1);
const RSA3072_CUTOFF = Date.UTC(2030, 1, 1);

/** Hash algorithms of self-signatures apt refuses from `SHA1_CUTOFF` on (MD5 and RIPEMD-160 long before). */
const WEAK_HASHES = new Map<number, string>([
  [enums.hash.md5, "MD5"],
  [enums.hash.ripemd, "RIPEMD-160"],
  [enums.hash.sha1, "SHA-1"],
  [enums.hash.sha224, "SHA-224"],
]);

export interface KeyState {
  fingerprint: string;
  armored: string;
  /** ISO 8601, or null when the key does not expire. */
  expiresAt: string | null;
  /** When the repository learned of its revocation (ms), or null. */
  revokedAt: number | null;
}

/** Everything about `key` that makes apt refuse its signatures, now or within the warning periods. */
export async function keyConcerns(key: KeyState, now: number): Promise<KeyConcern[]> {
  const concerns: KeyConcern[] = [];
  const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  if (key.revokedAt !== null) {
    concerns.push({
      level: "refused",
      message: `Revoked (this repository learned it on ${day(key.revokedAt)}): it signs nothing more here, and apt refuses what it signed once users fetch the keyring again.`,
    });
  }
  const expires = key.expiresAt === null ? null : Date.parse(key.expiresAt);
  if (expires !== null && expires <= now) {
    concerns.push({
      level: "refused",
      message: `Expired on ${day(expires)}: apt refuses what it signed (EXPKEYSIG).`,
    });
  } else if (expires !== null && expires - now < EXPIRY_WARNING_DAYS * DAY_MS) {
    const days = Math.ceil((expires - now) / DAY_MS);
    concerns.push({
      level: "warning",
      message: `Expires on ${day(expires)}, in ${days} day${days === 1 ? "" : "s"}: extend it (gpg --quick-set-expire ${key.fingerprint} 2y), add it again (armor key add), and have users download the keyring again, since apt checks their copy.`,
    });
  }
  let parsed: Key | undefined;
  try {
    [parsed] = await readKeys({ armoredKeys: key.armored });
  } catch {
    // Keys are checked when they are added (trusted-keys.ts); one that no longer parses says so.
  }
  if (parsed === undefined) {
    return [...concerns, { level: "refused", message: "This key no longer parses; add it again." }];
  }
  for (const part of signingParts(parsed)) {
    const concern = algorithmConcern(part.info, now);
    if (concern !== null) concerns.push({ ...concern, message: `${part.label}: ${concern.message}` });
  }
  const weak = weakSelfSignature(parsed);
  if (weak !== null) {
    const refused = now >= SHA1_CUTOFF;
    concerns.push({
      level: refused ? "refused" : "warning",
      message: `Its self-signature is made with ${weak}, which apt in Debian 13 ${refused ? "refuses since" : "refuses from"} 2026-02-01: sign it again with a current gpg (gpg --quick-set-expire ${key.fingerprint} with its expiry), add it again (armor key add) and have users download the keyring again.`,
    });
  }
  return concerns;
}

interface AlgorithmInfo {
  algorithm: string;
  bits?: number;
  curve?: string;
}

/** The primary key and each subkey that may sign: apt judges the key that made the signature. */
function signingParts(key: Key): { label: string; info: AlgorithmInfo }[] {
  const parts: { label: string; info: AlgorithmInfo }[] = [{ label: "Primary key", info: key.getAlgorithmInfo() }];
  for (const sub of key.subkeys) {
    if (!maySign(sub)) continue;
    parts.push({ label: `Signing subkey ${sub.getKeyID().toHex().toUpperCase()}`, info: sub.getAlgorithmInfo() });
  }
  return parts;
}

function maySign(sub: Subkey): boolean {
  if (sub.revocationSignatures.length > 0) return false;
  const binding = newest(sub.bindingSignatures);
  const flags = binding?.keyFlags?.[0] ?? 0;
  return (flags & enums.keyFlags.signData) !== 0;
}

function algorithmConcern(info: AlgorithmInfo, now: number): KeyConcern | null {
  const { algorithm, bits, curve } = info;
  if (algorithm === "dsa") return { level: "refused", message: "DSA, which apt refuses." };
  if (algorithm.startsWith("rsa") && bits !== undefined) {
    if (bits < 2048) return { level: "refused", message: `RSA of ${bits} bits; apt refuses RSA under 2048 bits.` };
    if (bits < 3072) {
      const refused = now >= RSA3072_CUTOFF;
      return {
        level: refused ? "refused" : "warning",
        message: `RSA of ${bits} bits, which apt in Debian 13 ${refused ? "refuses since" : "refuses from"} 2030-02-01 (warning a year before): plan a key of 3072 bits or more, or ed25519.`,
      };
    }
    return null;
  }
  if (curve?.startsWith("brainpool")) {
    const refused = now >= BRAINPOOL_CUTOFF;
    return {
      level: refused ? "refused" : "warning",
      message: `the Brainpool curve ${curve}, which apt in Ubuntu 24.04 refuses already and apt in Debian 13 ${refused ? "since" : "from"} 2028-02-01: use ed25519.`,
    };
  }
  if (curve === "secp256k1") {
    return { level: "refused", message: "the curve secp256k1, which apt refuses: use ed25519." };
  }
  return null;
}

/**
 * The name of a weak hash when the self-signature in force (the newest one) of a user ID or of a
 * signing subkey's binding uses one, or is a v3 signature; null when none does.
 */
function weakSelfSignature(key: Key): string | null {
  const inForce: SignaturePacket[] = [];
  for (const user of key.users) {
    const own = newest(user.selfCertifications);
    if (own !== undefined) inForce.push(own);
  }
  for (const sub of key.subkeys) {
    const binding = newest(sub.bindingSignatures);
    if (binding !== undefined && maySign(sub)) inForce.push(binding);
  }
  for (const sig of inForce) {
    if (sig.version === 3) return "a v3 signature";
    const weak = WEAK_HASHES.get(sig.hashAlgorithm ?? 0);
    if (weak !== undefined) return weak;
  }
  return null;
}

function newest(signatures: readonly SignaturePacket[]): SignaturePacket | undefined {
  let best: SignaturePacket | undefined;
  for (const s of signatures) if (best === undefined || (s.created ?? 0) > (best.created ?? 0)) best = s;
  return best;
}
