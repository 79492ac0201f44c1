/**
 * The keys a repository trusts to sign its indexes (DESIGN.md §2, §4b): whether a key may be
 * trusted, what a key text handed to the repository does to the keys it holds (trust a new key,
 * update one, or revoke one, for good), and the keyring apt users install. Pure functions over
 * strings: no bindings and no I/O, so they run in the Durable Object and in Node (`armor keyring
build` inspects keys and builds the same keyring). openpgp throws
 * for every malformed input; each throw is caught here and becomes a coded error.
 */
import {
  armor,
  enums,
  type Key,
  type PublicKey,
  readKeys,
  readSignature,
  revokeKey,
  type SignaturePacket,
} from "openpgp";
import { toHex } from "../deb/hash.ts";
import { ok, type Result } from "../schema/result.ts";

export interface PublicKeyInfo {
  /** Uppercase hex of the primary key's fingerprint, no spaces. */
  fingerprint: string;
  userIds: string[];
  /** The primary key's algorithm as gpg names it: "ed25519", "rsa4096", "nistp256"… */
  algorithm: string;
  /** ISO 8601. */
  createdAt: string;
  /** ISO 8601, or null when the key does not expire. */
  expiresAt: string | null;
  /** The public key alone, re-armored by openpgp (whatever surrounded the armor is gone). */
  armored: string;
}

export type KeyErrorCode = "invalid_key" | "secret_key" | "key_expired" | "key_revoked" | "key_cannot_sign";
export interface KeyError {
  code: KeyErrorCode;
  message: string;
}

const EXPORT_HINT = "export it with `gpg --armor --export <fingerprint>`";

/**
 * A signer's clock may run ahead of ours: what it signed "in the future" by this much counts as
 * signed now (a revocation made a minute ahead is still a revocation).
 */
export const CLOCK_SKEW_MS = 5 * 60_000;

/**
 * The date revocations are judged at: a revocation takes effect from its own date (RFC 9580
 * §5.2.3.31), and one dated later than now has still been seen. Whenever it takes effect, a key
 * whose revocation the repository has seen signs nothing more (DESIGN.md §4b).
 */
const END_OF_TIME = new Date(8_640_000_000_000_000);

/**
 * Parse one armored public key for the repository's trusted keys.
 * Refuses what is not exactly one key (`invalid_key`), a secret key (`secret_key`: only the public half
 * is ever needed), a primary key expired or revoked at `now` (`key_expired`, `key_revoked`) and a key
 * with no key usable for signing at `now` (`key_cannot_sign`), which includes algorithms openpgp
 * considers too weak (DSA, RSA under 2048 bits), as apt's gpgv does.
 */
export async function inspectPublicKey(armored: string, now = new Date()): Promise<Result<PublicKeyInfo, KeyError>> {
  const read = await readOneKey(armored);
  if (!read.ok) return read;
  const key = read.value;
  const fingerprint = key.getFingerprint().toUpperCase();
  if (await key.isRevoked(undefined, undefined, now)) {
    return keyError("key_revoked", `Key ${fingerprint} is revoked: sign with another key and add that one.`);
  }
  const problem = await signingProblem(key, now);
  if (problem !== null) return { ok: false, error: problem };
  return ok(await describe(key));
}

/** A key the repository holds, as {@link readKeySubmission} needs it. */
export interface HeldKey {
  fingerprint: string;
  armored: string;
}

/** What a key text handed to the repository (`armor key add`) does to the keys it holds. */
export interface KeySubmission {
  /**
   * The key to store: the one given, merged into the held key of that fingerprint as
   * `gpg --import` merges (signatures, user IDs and subkeys are added, never dropped), so a
   * revocation once stored is never lost, whatever older export arrives later.
   */
  key: PublicKeyInfo;
  /** The stored key is revoked: the repository must never trust it to sign again. */
  revocation: { reason: string | null } | null;
  /** The text itself carried the revocation (a revoked key, a revocation certificate), rather than meeting one already held. */
  revokes: boolean;
}

/**
 * Read a key text handed to a repository holding `held` keys: a public key (new, or an export of
 * a held key, revoked or not), or a revocation certificate for a held key (what
 * `gpg --gen-revoke` and openpgp.js's `generateKey` write: a public key block holding only the
 * key's revocation signature). A revocation is never refused: it is the answer (`revocation`),
 * and what to store. Otherwise the refusals of {@link inspectPublicKey}, judged on the merged key;
 * except that a revoked signing subkey is kept even when the key is left unable to sign, since
 * the repository must not trust that subkey again either.
 */
export async function readKeySubmission(
  text: string,
  held: readonly HeldKey[],
  now = new Date(),
): Promise<Result<KeySubmission, KeyError>> {
  if (/^:-----BEGIN PGP PUBLIC KEY BLOCK-----/m.test(text)) {
    return keyError(
      "invalid_key",
      "This is a revocation certificate as gpg stores it, with a colon before its armor so that it is not used by accident: remove the colon in front of -----BEGIN PGP PUBLIC KEY BLOCK----- and add it again to revoke the key.",
    );
  }
  const certificate = await readRevocationCertificate(text);
  if (certificate !== null) return applyRevocationCertificate(text, certificate, held, now);
  const read = await readOneKey(text);
  if (!read.ok) return read;
  const given = read.value.toPublic();
  const fingerprint = given.getFingerprint().toUpperCase();
  const before = await heldKey(held, fingerprint);
  // Signatures dated a little ahead (the signer's clock) are merged too; expired ones are not.
  const skewed = new Date(now.getTime() + CLOCK_SKEW_MS);
  const merged = before === null ? given : await before.update(given, skewed);
  if (await revokedEver(merged)) {
    return ok({
      key: await describe(merged),
      revocation: { reason: revocationReason(merged) },
      revokes: await revokedEver(given),
    });
  }
  const problem = await signingProblem(merged, now);
  if (problem !== null && !(before !== null && subkeyRevocations(merged) > subkeyRevocations(before))) {
    return { ok: false, error: problem };
  }
  return ok({ key: await describe(merged), revocation: null, revokes: false });
}

/**
 * The archive keyring apt users install (archive-keyring.asc for `Signed-By:` and
 * /etc/apt/keyrings, archive-keyring.gpg for trusted.gpg.d): every key's public half, concatenated,
 * once per fingerprint, in the given order, with every signature it carries: a revoked key's
 * revocation reaches whoever imports the keyring (gpg then refuses the key's signatures,
 * apt-secure(8) reports them as REVKEYSIG). The binary form is plain OpenPGP packets (what
 * `gpg --export` writes), not GnuPG's keybox format, which apt refuses.
 * @throws if a key does not parse: keys are checked by {@link readKeySubmission} before they are stored.
 */
export async function buildKeyring(armoredKeys: readonly string[]): Promise<{ armored: string; binary: Uint8Array }> {
  const seen = new Set<string>();
  const keys: PublicKey[] = [];
  for (const [index, armoredKey] of armoredKeys.entries()) {
    let parsed: Key[];
    try {
      parsed = await readKeys({ armoredKeys: armoredKey });
    } catch (cause) {
      throw new Error(`trusted key #${index} does not parse`, { cause });
    }
    for (const key of parsed) {
      if (seen.has(key.getFingerprint())) continue;
      seen.add(key.getFingerprint());
      keys.push(key.toPublic());
    }
  }
  const parts = keys.map((k) => k.toPacketList().write());
  const binary = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    binary.set(part, offset);
    offset += part.length;
  }
  // The CRC24 line is optional (RFC 9580 §6.1) and v6 keys must not carry it; with v4 keys keep it, as
  // key.armor() does: gpg fails to decode some unpadded armor without it (https://dev.gnupg.org/T7071).
  const checksum = keys.every((k) => k.keyPacket.version !== 6);
  return { armored: armor(enums.armor.publicKey, binary, undefined, undefined, undefined, checksum), binary };
}

/** Exactly one public or secret key out of one armor block, or why not. */
async function readOneKey(armored: string): Promise<Result<Key, KeyError>> {
  if (armored.trim() === "") return keyError("invalid_key", `No key given: ${EXPORT_HINT}.`);
  // openpgp reads the first armor block and ignores the rest: a second pasted key would vanish silently.
  const blocks = armored.match(/^-----BEGIN PGP /gm)?.length ?? 0;
  if (blocks > 1) {
    return keyError("invalid_key", `This text holds ${blocks} armor blocks; add one key at a time: ${EXPORT_HINT}.`);
  }
  let keys: Key[];
  try {
    keys = await readKeys({ armoredKeys: armored });
  } catch (cause) {
    return keyError("invalid_key", `This is not an armored OpenPGP public key (${reason(cause)}): ${EXPORT_HINT}.`);
  }
  // Said first, whatever else is wrong: whoever pasted a secret key needs to hear it most.
  const secret = keys.find((k) => k.isPrivate());
  if (secret !== undefined) {
    return keyError(
      "secret_key",
      `This is a secret key and it was not stored. Armor only needs the public half: ${EXPORT_HINT.replace("<fingerprint>", secret.getFingerprint().toUpperCase())}, and keep the secret key to yourself.`,
    );
  }
  const key = keys[0];
  if (key === undefined || keys.length > 1) {
    return keyError("invalid_key", `This text holds ${keys.length} keys; add one key at a time: ${EXPORT_HINT}.`);
  }
  return ok(key);
}

/** Why a key that is not revoked cannot be trusted to sign at `now`, or null. */
async function signingProblem(key: Key, now: Date): Promise<KeyError | null> {
  const fingerprint = key.getFingerprint().toUpperCase();
  // null means "revoked or no valid self-signature"; both are caught just below with a precise reason.
  const expiration = await key.getExpirationTime();
  if (expiration instanceof Date && expiration <= now) {
    return {
      code: "key_expired",
      message: `Key ${fingerprint} expired on ${expiration.toISOString()}: extend it (\`gpg --quick-set-expire ${fingerprint} 2y\`), export it again and add it.`,
    };
  }
  try {
    await key.verifyPrimaryKey(now);
  } catch (cause) {
    return {
      code: "invalid_key",
      message: `Key ${fingerprint} is not usable (${reason(cause)}): ${EXPORT_HINT} again.`,
    };
  }
  try {
    await key.getSigningKey(undefined, now);
  } catch (cause) {
    return {
      code: "key_cannot_sign",
      message: `Key ${fingerprint} has no key usable for signing (${reason(cause)}): add an ed25519 signing subkey (\`gpg --quick-add-key ${fingerprint} ed25519 sign\`) or use another key.`,
    };
  }
  return null;
}

async function describe(key: Key): Promise<PublicKeyInfo> {
  const expiration = await key.getExpirationTime();
  return {
    fingerprint: key.getFingerprint().toUpperCase(),
    userIds: key.getUserIDs(),
    algorithm: algorithmName(key),
    createdAt: key.getCreationTime().toISOString(),
    expiresAt: expiration instanceof Date ? expiration.toISOString() : null,
    armored: key.toPublic().armor(),
  };
}

/** The held key of this fingerprint, parsed; one that no longer parses counts as absent. */
async function heldKey(held: readonly HeldKey[], fingerprint: string): Promise<PublicKey | null> {
  const entry = held.find((k) => k.fingerprint === fingerprint);
  if (entry === undefined) return null;
  try {
    const [key] = await readKeys({ armoredKeys: entry.armored });
    return key === undefined ? null : key.toPublic();
  } catch {
    return null;
  }
}

/** Whether the key carries a valid revocation of its primary key, whatever its date. */
function revokedEver(key: Key): Promise<boolean> {
  return key.isRevoked(undefined, undefined, END_OF_TIME);
}

function subkeyRevocations(key: Key): number {
  return key.subkeys.reduce((n, sub) => n + sub.revocationSignatures.length, 0);
}

const REVOCATION_REASONS: Partial<Record<enums.reasonForRevocation, string>> = {
  [enums.reasonForRevocation.keySuperseded]: "superseded",
  [enums.reasonForRevocation.keyCompromised]: "compromised",
  [enums.reasonForRevocation.keyRetired]: "retired",
};

/** The revocation's reason (RFC 9580 §5.2.3.31), as "compromised: lost laptop", or null when it gives none. */
function revocationReason(key: Key): string | null {
  const signature = key.revocationSignatures[0];
  if (signature === undefined) return null;
  const flag = signature.reasonForRevocationFlag;
  const kind = flag === null ? undefined : REVOCATION_REASONS[flag];
  const text = signature.reasonForRevocationString?.trim() ?? "";
  if (kind === undefined) return text === "" ? null : text;
  return text === "" ? kind : `${kind}: ${text}`;
}

/**
 * A revocation certificate is armored as a public key block holding a single key revocation
 * signature. The armor's type line is not covered by its checksum (RFC 9580 §6.2), so the block
 * reads as the signature it holds once its type lines say so.
 */
async function readRevocationCertificate(text: string): Promise<SignaturePacket | null> {
  if (!/^-----BEGIN PGP PUBLIC KEY BLOCK-----/m.test(text)) return null;
  const asSignature = text.replace(/^-----(BEGIN|END) PGP PUBLIC KEY BLOCK-----/gm, "-----$1 PGP SIGNATURE-----");
  try {
    const { packets } = await readSignature({ armoredSignature: asSignature });
    const [packet] = packets;
    if (packets.length !== 1 || packet?.signatureType !== enums.signature.keyRevocation) return null;
    return packet;
  } catch {
    // A key block, or not OpenPGP at all: the key reader says what is wrong with it.
    return null;
  }
}

async function applyRevocationCertificate(
  text: string,
  certificate: SignaturePacket,
  held: readonly HeldKey[],
  now: Date,
): Promise<Result<KeySubmission, KeyError>> {
  const issuer = certificate.issuerFingerprint
    ? toHex(certificate.issuerFingerprint).toUpperCase()
    : certificate.issuerKeyID.toHex().toUpperCase();
  let key: PublicKey | null = null;
  for (const { fingerprint } of held) {
    const candidate = await heldKey(held, fingerprint);
    if (candidate?.getKeyID().equals(certificate.issuerKeyID)) key = candidate;
  }
  if (key === null) {
    return keyError(
      "invalid_key",
      `This is a revocation certificate for key ${issuer}, which this repository does not hold: it cannot be checked without the key. Import it (\`gpg --import\`) and add the revoked key instead: ${EXPORT_HINT.replace("<fingerprint>", issuer)}.`,
    );
  }
  let revoked: PublicKey = key;
  if (!(await revokedEver(key))) {
    try {
      ({ publicKey: revoked } = await revokeKey({
        key,
        revocationCertificate: text,
        date: new Date(now.getTime() + CLOCK_SKEW_MS),
        format: "object",
      }));
    } catch (cause) {
      return keyError(
        "invalid_key",
        `This revocation certificate names key ${key.getFingerprint().toUpperCase()} but does not verify against it (${reason(cause)}); nothing was changed.`,
      );
    }
  }
  return ok({ key: await describe(revoked), revocation: { reason: revocationReason(revoked) }, revokes: true });
}

function algorithmName(key: Key): string {
  const { algorithm, bits, curve } = key.getAlgorithmInfo();
  if (bits !== undefined) return `${algorithm.replace(/(EncryptSign|Sign|Encrypt)$/, "")}${bits}`;
  if (curve !== undefined) return curve.replace(/Legacy$/, "").replace(/^nistP/, "nistp");
  return algorithm;
}

/** A thrown value's message, without its final full stop, to quote inside a sentence. */
export function reason(cause: unknown): string {
  return (cause instanceof Error ? cause.message : String(cause)).replace(/\.$/, "");
}

function keyError(code: KeyErrorCode, message: string): { ok: false; error: KeyError } {
  return { ok: false, error: { code, message } };
}
