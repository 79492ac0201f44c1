/**
 * The OpenPGP checks of the publish flow (DESIGN.md §3): the two signatures apt verifies on each
 * dist's Release (apt-secure(8)), by one of the keys a repository trusts (pgp/keys.ts). The
 * repository checks every upload with them, and `armor index sign` checks what it made.
 * Pure functions over strings: no bindings and no I/O, so they run in the Durable Object and in Node.
 * openpgp throws for every malformed input; each throw is caught here and becomes a coded error.
 */
import {
  type CleartextMessage,
  createMessage,
  enums,
  type KeyID,
  type Message,
  type PublicKey,
  readCleartextMessage,
  readKeys,
  readSignature,
  type Signature,
  type VerifyMessageResult,
  verify,
} from "openpgp";
import { toHex } from "../deb/hash.ts";
import { ok, type Result } from "../schema/result.ts";
import { CLOCK_SKEW_MS, reason } from "./keys.ts";

export type SignatureErrorCode = "bad_signature" | "untrusted_key" | "release_mismatch";
export interface SignatureError {
  code: SignatureErrorCode;
  message: string;
}

/** What verifyReleaseSignatures vouches for: the signer, and the two files exactly as they were verified. */
export interface VerifiedRelease {
  /** Primary fingerprint of the declared key, uppercase hex. */
  fingerprint: string;
  /**
   * The uploaded files reduced to their armor, "\n" line endings and one final "\n": store these, not
   * the uploaded strings, since apt refuses even blank lines around the armor.
   */
  inrelease: string;
  releaseGpg: string;
}

/**
 * Verify the two signatures of a dist's Release, as apt will (apt-secure(8)): InRelease, a clearsigned
 * message (RFC 9580 §7) whose signed text is exactly `releaseText`, and Release.gpg, an armored detached
 * signature over exactly its bytes (binary signature type, or text mode). Around the armor only
 * whitespace is allowed, and it is dropped from the files returned.
 * `fingerprint` is the signer the client declares (primary or signing subkey fingerprint): it must belong
 * to one of `trustedKeys` (else `untrusted_key`) and be valid at `now`; each file must carry a signature
 * by it that verifies (else `bad_signature`), and any other signature must be by a trusted key and verify.
 * `revokedKeys` are keys the repository no longer trusts because it saw their revocation: they are
 * only read to say so when one is declared.
 */
export async function verifyReleaseSignatures(
  input: {
    releaseText: string;
    inrelease: string;
    releaseGpg: string;
    fingerprint: string;
    trustedKeys: readonly string[];
    revokedKeys?: readonly string[];
  },
  now = new Date(),
): Promise<Result<VerifiedRelease, SignatureError>> {
  const declared = normalizeFingerprint(input.fingerprint);
  if (declared === null) {
    return signatureError(
      "untrusted_key",
      `"${input.fingerprint.slice(0, 80)}" is not a key fingerprint (40 or 64 hex digits): sign with \`armor index sign --key=<fingerprint>\`.`,
    );
  }
  const trusted = await parseTrustedKeys(input.trustedKeys);
  const signer = trusted.find((k) => k.getKeys().some((sub) => sub.getFingerprint().toUpperCase() === declared));
  if (signer === undefined) {
    const known = trusted.map((k) => k.getFingerprint().toUpperCase());
    const revoked = (await parseTrustedKeys(input.revokedKeys ?? [])).find((k) =>
      k.getKeys().some((sub) => sub.getFingerprint().toUpperCase() === declared),
    );
    if (revoked !== undefined) {
      return signatureError(
        "untrusted_key",
        `Key ${revoked.getFingerprint().toUpperCase()} is revoked: this repository no longer trusts it to sign${known.length === 0 ? "; add a new key with `armor key add`" : `: sign with one of its keys (${known.join(", ")}), or add a new one with \`armor key add\``}.`,
      );
    }
    return signatureError(
      "untrusted_key",
      known.length === 0
        ? `Key ${declared} is not trusted: this repository has no trusted key yet; add yours with \`armor key add\`.`
        : `Key ${declared} is not trusted by this repository: sign with one of its keys (${known.join(", ")}) or add this one with \`armor key add\`.`,
    );
  }
  const fingerprint = signer.getFingerprint().toUpperCase();
  // apt's gpgv reports such a key's signatures as REVKEYSIG / EXPKEYSIG, which apt treats as bad.
  if (await signer.isRevoked(undefined, undefined, now)) {
    return signatureError(
      "bad_signature",
      `Key ${fingerprint} is revoked: sign with another trusted key, or add a new one with \`armor key add\`.`,
    );
  }
  try {
    await signer.verifyPrimaryKey(now);
  } catch (cause) {
    return signatureError(
      "bad_signature",
      `Key ${fingerprint} cannot sign now (${reason(cause)}): if it expired, extend it (\`gpg --quick-set-expire ${fingerprint} 2y\`) and add it again with \`armor key add\`; then sign again.`,
    );
  }
  const context: Context = { signer, trusted, now };

  const inrelease = armorBlock(input.inrelease, CLEARSIGNED, "InRelease");
  if (!inrelease.ok) return inrelease;
  const signedText = clearsignedText(inrelease.value);
  if (!signedText.ok) return signedText;
  // RFC 9580 §7.1: the line ending before the signature armor belongs to the framework, not to the text,
  // so a Release (which always ends in "\n") is exactly the signed text plus one "\n".
  if (`${signedText.value}\n` !== input.releaseText) {
    return signatureError(
      "release_mismatch",
      `InRelease does not contain the Release the server generated (${firstDifference(signedText.value, input.releaseText)}): sign the output of \`armor index generate\` unchanged, or regenerate if the release changed since.`,
    );
  }
  let cleartext: CleartextMessage;
  try {
    cleartext = await readCleartextMessage({ cleartextMessage: inrelease.value.text });
  } catch (cause) {
    return signatureError("bad_signature", `InRelease is not a valid clearsigned message (${reason(cause)})${RESIGN}`);
  }
  // RFC 9580 §7: a cleartext signature is always a text signature (type 0x01).
  const inreleaseOk = await checkSignatures(
    "InRelease",
    (verificationKeys, date) => verify({ message: cleartext, verificationKeys, date }),
    [enums.signature.text],
    context,
  );
  if (!inreleaseOk.ok) return inreleaseOk;

  const releaseGpg = armorBlock(input.releaseGpg, DETACHED, "Release.gpg");
  if (!releaseGpg.ok) return releaseGpg;
  let signature: Signature;
  let message: Message<Uint8Array>;
  try {
    signature = await readSignature({ armoredSignature: releaseGpg.value.text });
    message = await createMessage({ binary: new TextEncoder().encode(input.releaseText) });
  } catch (cause) {
    return signatureError(
      "bad_signature",
      `Release.gpg is not an armored detached signature (${reason(cause)}): make it with \`gpg --armor --detach-sign\`${RESIGN}`,
    );
  }
  // A binary message, not a text one: openpgp would turn text into CRLF lines before hashing a binary
  // signature. Text-mode signatures (gpg --textmode) canonicalize the same bytes themselves.
  const releaseGpgOk = await checkSignatures(
    "Release.gpg",
    (verificationKeys, date) => verify({ message, signature, verificationKeys, date, format: "binary" }),
    [enums.signature.binary, enums.signature.text],
    context,
  );
  if (!releaseGpgOk.ok) return releaseGpgOk;
  return ok({ fingerprint, inrelease: inrelease.value.text, releaseGpg: releaseGpg.value.text });
}

const RESIGN = ": sign the Release again with `armor index sign` and upload the result unchanged.";

interface Context {
  signer: PublicKey;
  trusted: readonly PublicKey[];
  now: Date;
}

/**
 * Every signature in one file must be by a trusted key and verify; at least one must be by the declared
 * signer. Several signatures are allowed so a repository can sign with an old and a new key while
 * rotating (apt accepts a file when one signature is good, from a key it holds).
 */
async function checkSignatures(
  file: "InRelease" | "Release.gpg",
  run: (keys: PublicKey[], date: Date) => Promise<VerifyMessageResult>,
  types: readonly enums.signature[],
  { signer, trusted, now }: Context,
): Promise<Result<void, SignatureError>> {
  const signerFingerprint = signer.getFingerprint().toUpperCase();
  let results: VerifyMessageResult["signatures"];
  try {
    results = (await run([signer, ...trusted.filter((k) => k !== signer)], new Date(now.getTime() + CLOCK_SKEW_MS)))
      .signatures;
  } catch (cause) {
    return signatureError("bad_signature", `${file} does not verify (${reason(cause)})${RESIGN}`);
  }
  if (results.length === 0) return signatureError("bad_signature", `${file} carries no signature${RESIGN}`);
  let bySigner = false;
  const others = new Set<string>();
  for (const result of results) {
    const packet = await result.signature.then(
      (s) => s.packets[0],
      () => undefined,
    );
    const owner = ownerOf(result.keyID, signer, trusted);
    if (owner === undefined) {
      const issuer = packet?.issuerFingerprint
        ? toHex(packet.issuerFingerprint).toUpperCase()
        : result.keyID.toHex().toUpperCase();
      return signatureError(
        "untrusted_key",
        `${file} is signed by key ${issuer}, which this repository does not trust: sign with ${signerFingerprint}, or add that key with \`armor key add\`.`,
      );
    }
    const ownerFingerprint = owner.getFingerprint().toUpperCase();
    try {
      if (packet?.signatureType == null || !types.includes(packet.signatureType)) {
        throw new Error(`signature type ${packet?.signatureType ?? "unknown"} is not one for a document`);
      }
      await result.verified;
      // openpgp checks the signing key as it was when the signature was made; apt checks it now.
      await owner.getSigningKey(result.keyID, now);
    } catch (cause) {
      return signatureError(
        "bad_signature",
        `${file} has a signature by ${ownerFingerprint} that does not verify (${reason(cause)})${RESIGN}`,
      );
    }
    if (owner === signer) bySigner = true;
    else others.add(ownerFingerprint);
  }
  if (!bySigner) {
    return signatureError(
      "bad_signature",
      `${file} is signed by ${[...others].join(", ")}, not by the declared key ${signerFingerprint}: sign with \`armor index sign --key=${signerFingerprint}\` or declare the key you signed with.`,
    );
  }
  return ok(undefined);
}

/** A signature that does not name its issuer (an all-zero key ID) can only be meant for the signer. */
function ownerOf(keyID: KeyID, signer: PublicKey, trusted: readonly PublicKey[]): PublicKey | undefined {
  if (/^0+$/.test(keyID.toHex())) return signer;
  return [signer, ...trusted].find((k) => k.getKeys(keyID).length > 0);
}

const CLEARSIGNED = ["BEGIN PGP SIGNED MESSAGE", "BEGIN PGP SIGNATURE", "END PGP SIGNATURE"] as const;
const DETACHED = ["BEGIN PGP SIGNATURE", "END PGP SIGNATURE"] as const;

interface ArmorBlock {
  /** The armor alone, "\n" line endings, one final "\n". */
  text: string;
  lines: string[];
  /** Indexes in `lines` of the armor lines, in the order expected. */
  armorLines: number[];
}

/**
 * Reduce an uploaded file to its armor block, after checking its armor lines ("-----BEGIN PGP …-----")
 * are exactly the expected ones, in order, with only whitespace before the first and after the last.
 * apt's own splitter (apt-pkg/contrib/gpgv.cc) refuses any line outside the armor, blank ones included,
 * and a second message: such lines are how unsigned text gets past one parser and not another. Signed
 * text cannot fake an armor line, since lines starting with "-" are dash-escaped in it (RFC 9580 §7.2).
 * Carriage returns before "\n" go: apt ignores them, and text signatures hash canonical line endings.
 */
function armorBlock(
  upload: string,
  expected: readonly string[],
  file: "InRelease" | "Release.gpg",
): Result<ArmorBlock, SignatureError> {
  const all = upload.split("\n").map((line) => line.replace(/\r+$/, ""));
  const armorAt = all.flatMap((line, i) => (/^-----(BEGIN|END) PGP /.test(line) ? [i] : []));
  const found = armorAt.map((i) => (all[i] ?? "").trimEnd().replace(/^-----|-----$/g, ""));
  if (found.length !== expected.length || found.some((f, i) => f !== expected[i])) {
    const what =
      file === "InRelease" ? "one clearsigned message (`gpg --clearsign`)" : "one armored detached signature";
    const got = found.length === 0 ? "no OpenPGP armor" : found.map((f) => `"${f.slice(0, 40)}"`).join(", ");
    return signatureError("bad_signature", `${file} must be ${what}, but holds ${got}${RESIGN}`);
  }
  const first = armorAt[0] ?? 0;
  const last = armorAt[armorAt.length - 1] ?? 0;
  const blank = (line: string) => line.trim() === "";
  for (const [where, outside] of [
    ["before", all.slice(0, first)],
    ["after", all.slice(last + 1)],
  ] as const) {
    if (!outside.every(blank)) {
      return signatureError("bad_signature", `${file} has text ${where} its armor, which apt refuses${RESIGN}`);
    }
  }
  const lines = all.slice(first, last + 1);
  return ok({ text: `${lines.join("\n")}\n`, lines, armorLines: armorAt.map((i) => i - first) });
}

/**
 * The signed text of a clearsigned InRelease, dash-escaping undone, without the line ending that belongs
 * to the framework (RFC 9580 §7). Lines starting with "-" must be dash-escaped, in the text as in the
 * armor headers: apt refuses them otherwise, as likely attempts to confuse its parser and gpgv's.
 */
function clearsignedText({ lines, armorLines }: ArmorBlock): Result<string, SignatureError> {
  const signatureAt = armorLines[1] ?? 0;
  // Armor headers ("Hash: SHA512") run up to the first blank line.
  let blankAt = 1;
  while (blankAt < signatureAt && (lines[blankAt] ?? "").replace(/[ \t]+$/, "") !== "") blankAt++;
  if (blankAt >= signatureAt) {
    return signatureError("bad_signature", `InRelease has no blank line after its armor headers${RESIGN}`);
  }
  const body = lines.slice(blankAt + 1, signatureAt);
  if (lines.slice(1, blankAt).some((line) => line.startsWith("-")) || body.some((l) => /^-(?! )/.test(l))) {
    return signatureError("bad_signature", `InRelease has a line starting with "-" that is not dash-escaped${RESIGN}`);
  }
  return ok(body.map((line) => (line.startsWith("- ") ? line.slice(2) : line)).join("\n"));
}

/** Unparseable trusted keys count as absent: the signer then gets a clear untrusted_key, not a 500. */
async function parseTrustedKeys(armored: readonly string[]): Promise<PublicKey[]> {
  const keys: PublicKey[] = [];
  for (const text of armored) {
    try {
      for (const key of await readKeys({ armoredKeys: text })) keys.push(key.toPublic());
    } catch {
      // Stored keys were checked by readKeySubmission; a newer openpgp may still refuse one.
    }
  }
  return keys;
}

function normalizeFingerprint(text: string): string | null {
  const hex = text.replace(/\s+/g, "").replace(/^0x/i, "").toUpperCase();
  return /^([0-9A-F]{40}|[0-9A-F]{64})$/.test(hex) ? hex : null;
}

function firstDifference(signed: string, expected: string): string {
  const a = signed.split("\n");
  const b = expected.replace(/\n$/, "").split("\n");
  const clip = (line: string | undefined) => (line === undefined ? "end of text" : JSON.stringify(line.slice(0, 60)));
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) return `line ${i + 1} is ${clip(a[i])}, the server has ${clip(b[i])}`;
  }
  return "the final newline differs";
}

function signatureError(code: SignatureErrorCode, message: string): { ok: false; error: SignatureError } {
  return { ok: false, error: { code, message } };
}
