/**
 * `armor index sign`: the two signatures apt checks on a dist's Release (apt-secure(8)), an InRelease
 * clearsigned as `gpg --clearsign` does and a Release.gpg detached over the exact bytes, made with
 * openpgp.js from a key file, the environment or the config's keyring directory, or delegated to the
 * system's gpg (smartcards, YubiKeys, agent-held keys). Either way the result is checked with the
 * server's own verifier before it is returned, so what fails here never reaches an upload.
 */
import { spawn, spawnSync } from "node:child_process";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import {
  createCleartextMessage,
  createMessage,
  decryptKey,
  type Key,
  type PrivateKey,
  readKeys,
  readSignature,
  sign,
} from "openpgp";
import { verifyReleaseSignatures } from "../pgp/release-signatures.ts";
import { UserError } from "./errors.ts";

export interface SigningKeySource {
  /** A file holding the secret key, armored or binary (`gpg --export-secret-keys`). */
  keyFile?: string;
  /** Armored secret key text, e.g. from ARMOR_SIGNING_KEY. */
  keyText?: string;
  /** Directory of *.asc secret keys (the CLI config's keyring dir). */
  keyringDir?: string;
}

export interface SignOptions extends SigningKeySource {
  /** KEYID: fingerprint, long key id or a user-id substring (like gpg -u). */
  key?: string;
  passphrase?: string;
  /**
   * Asked only when the key is encrypted and no passphrase was given; undefined when not on a TTY.
   * It is told which key, as gpg's pinentry is; a `() => Promise<string>` fits too.
   */
  promptPassphrase?: (key: { fingerprint: string; userId: string | undefined }) => Promise<string>;
  /** Sign with the system's gpg instead of openpgp.js. */
  gpg?: boolean;
  /** gpg's --homedir (a throwaway GNUPGHOME in tests); gpg's default otherwise. */
  gpgHome?: string;
}

export interface Signatures {
  /** dists/{dist}/InRelease: the Release, clearsigned. */
  inrelease: string;
  /** dists/{dist}/Release.gpg: an armored detached signature of the Release bytes. */
  releaseGpg: string;
  /** Uppercase fingerprint of the signing key's primary key. */
  fingerprint: string;
}

const RELEASE_HINT =
  "sign the release_text printed by `armor index generate` unchanged; if it was edited, generate it again";

/** deb822 field names (Debian Policy §5.1): printable US-ASCII but ":", not starting with "#" or "-". */
const FIELD_NAME = /^[!-9;-~]+$/;
/** RFC 1123 dates in UTC, as dak and deb/release.ts write them (apt reads them with RFC1123StrToTime). */
const RELEASE_DATE =
  /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), [0-9]{1,2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} (UTC|GMT|\+0000)$/;
/** The checksum lists of a Release (Debian repository format wiki, "Release files") and their digest sizes. */
const CHECKSUM_FIELDS: Record<string, number> = { md5sum: 32, sha1: 40, sha256: 64, sha512: 128 };

/**
 * Check that a Release text is what the server generates before signing it: one deb822 paragraph with
 * Suite or Codename, an RFC 1123 Date, and checksum lists (SHA256 at least, which apt requires) of
 * " <hex> <size> <path>" lines; "\n" line endings, exactly one at the end, no blank line.
 * Also refused, though the clearsign framework could carry them: lines starting with "-" (they would be
 * dash-escaped, and no deb822 line starts so) and trailing whitespace, which a cleartext signature does
 * not cover (RFC 9580 §7.2) and openpgp.js drops, so the signed text would differ from the Release.
 * @throws UserError naming the first problem and its line.
 */
export function checkReleaseText(text: string): void {
  if (text === "") bad("it is empty");
  const cr = text.indexOf("\r");
  if (cr !== -1) bad(`line ${lineOf(text, cr)} has a carriage return; a Release uses "\\n" line endings`);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
  const control = /[\0-\x08\x0b-\x1f\x7f]/.exec(text);
  if (control) {
    const code = control[0].charCodeAt(0).toString(16).padStart(4, "0");
    bad(`line ${lineOf(text, control.index)} has the control character U+${code}`);
  }
  if (!text.endsWith("\n")) bad("it does not end with a newline");
  const lines = text.slice(0, -1).split("\n");
  const fields = new Map<string, { name: string; line: number; value: string; continuations: number[] }>();
  let current: { continuations: number[] } | undefined;
  for (const [i, line] of lines.entries()) {
    const n = i + 1;
    if (line === "") bad(`line ${n} is blank; a Release is one paragraph`);
    if (line.startsWith("-")) bad(`line ${n} starts with "-", which is neither a field nor a continuation line`);
    if (/[ \t]$/.test(line)) bad(`line ${n} ends with whitespace, which a clearsigned signature does not cover`);
    if (line.startsWith(" ") || line.startsWith("\t")) {
      if (current === undefined) bad(`line ${n} is a continuation line with no field before it`);
      current.continuations.push(n);
      continue;
    }
    const colon = line.indexOf(":");
    const name = line.slice(0, Math.max(colon, 0));
    if (colon <= 0 || !FIELD_NAME.test(name) || name.startsWith("#")) {
      bad(`line ${n} is neither "Field: value" nor a continuation line: ${clip(line)}`);
    }
    const key = name.toLowerCase();
    if (fields.has(key)) bad(`the field ${name} appears twice (line ${n})`);
    current = { continuations: [] };
    fields.set(key, { name, line: n, value: line.slice(colon + 1).trim(), ...current });
  }
  if (!fields.has("suite") && !fields.has("codename")) bad("it has neither a Suite nor a Codename field");
  for (const name of ["Date", "Valid-Until"]) {
    const field = fields.get(name.toLowerCase());
    if (field === undefined) {
      if (name === "Date") bad("it has no Date field");
      continue;
    }
    if (!RELEASE_DATE.test(field.value) || Number.isNaN(Date.parse(field.value))) {
      bad(`${name} (line ${field.line}) is not a date like "Sat, 11 Jul 2026 10:16:37 UTC": ${clip(field.value)}`);
    }
  }
  const sha256 = fields.get("sha256");
  if (sha256 === undefined || sha256.continuations.length === 0) bad("it has no SHA256 list of index files");
  for (const [key, hexLength] of Object.entries(CHECKSUM_FIELDS)) {
    const field = fields.get(key);
    if (field === undefined) continue;
    if (field.value !== "") bad(`${field.name} (line ${field.line}) must have its entries on the lines after it`);
    const entry = new RegExp(`^ [0-9a-f]{${hexLength}} +[0-9]+ [^\\s/][^\\s]*$`);
    for (const n of field.continuations) {
      const line = lines[n - 1] ?? "";
      if (!entry.test(line) || line.split(" ").at(-1)?.split("/").includes("..")) {
        bad(`line ${n} in ${field.name} is not " <${hexLength} hex digits> <size> <path>": ${clip(line)}`);
      }
    }
  }
}

function bad(what: string): never {
  throw new UserError(`The Release text is not well-formed: ${what}.`, {
    hint: RELEASE_HINT,
    code: "malformed_release",
  });
}

/**
 * Sign a Release as apt expects: InRelease clearsigned, Release.gpg detached over the exact bytes.
 * openpgp.js by default, with a secret key from `keyFile`, else `keyText`, else the `*.asc` files of
 * `keyringDir`, chosen by `key` (or the only one); `gpg: true` delegates to the system's gpg.
 * @throws UserError for every mistake a user can fix: no or several matching keys, a public key, a
 * wrong or missing passphrase, a key that cannot sign, gpg missing or failing, a malformed Release.
 */
export async function signRelease(releaseText: string, options: SignOptions): Promise<Signatures> {
  checkReleaseText(releaseText);
  return (await prepareSigner(options)).sign(releaseText);
}

/** Signs Releases with one key, read and chosen before there is a Release to sign. */
export interface Signer {
  /** As `signRelease`; the key is unlocked on the first call (asking for its passphrase if need be) and kept. */
  sign(releaseText: string): Promise<Signatures>;
}

/**
 * A signer made ready ahead of the Release: openpgp.js keys read, chosen, checked and, with a
 * passphrase given, unlocked, so that `armor publish` does this while the server generates. A
 * passphrase prompt waits for the first Release, so nothing is asked when there is none to sign.
 * @throws UserError as `signRelease` does, for the key; the Release's own mistakes come from `sign`.
 */
export async function prepareSigner(options: SignOptions): Promise<Signer> {
  const signWith = options.gpg
    ? (releaseText: string) => signWithGpg(releaseText, options)
    : await openpgpSigner(options);
  return {
    async sign(releaseText) {
      checkReleaseText(releaseText);
      const signed = await signWith(releaseText);
      const check = await verifyReleaseSignatures({
        releaseText,
        inrelease: signed.inrelease,
        releaseGpg: signed.releaseGpg,
        fingerprint: signed.fingerprint,
        trustedKeys: [signed.publicKey],
      });
      if (!check.ok) {
        if (!options.gpg) {
          // Keys that cannot sign are refused before signing, so this is armor's bug, not the user's.
          throw new Error(`openpgp.js made signatures that do not verify: ${check.error.message}`);
        }
        throw new UserError(`gpg made signatures the repository would refuse: ${check.error.message}`, {
          hint: "check ~/.gnupg/gpg.conf for options that change signatures (local-user, digest-algo, textmode)",
          code: "gpg_failed",
        });
      }
      return { inrelease: check.value.inrelease, releaseGpg: check.value.releaseGpg, fingerprint: signed.fingerprint };
    },
  };
}

interface Signed extends Signatures {
  /** The signer's public key, armored, to check the signatures with. */
  publicKey: string;
}

// ---------------------------------------------------------------------------------------------------
// openpgp.js

const EXPORT_HINT =
  "export the secret key with `gpg --armor --export-secret-keys <fingerprint> > signing-key.asc` (and keep it secret), or sign with --gpg";

interface KeySet {
  /** Where the keys came from, as the user named it. */
  origin: string;
  keys: Key[];
}

async function openpgpSigner(options: SignOptions): Promise<(releaseText: string) => Promise<Signed>> {
  const source = await loadKeys(options);
  const chosen = chooseKey(source, options.key);
  const fingerprint = chosen.getFingerprint().toUpperCase();
  const signingKey = await usableSigningKey(chosen, new Date());
  const packet = signingKey.keyPacket;
  if (!("isMissingSecretKeyMaterial" in packet) || packet.isMissingSecretKeyMaterial()) {
    throw new UserError(`The secret half of key ${fingerprint}'s signing key is not in ${source.origin}.`, {
      hint: "it is a gpg stub (the secret half on a smartcard or kept offline) or protected in a way openpgp.js does not read: sign with --gpg",
      code: "key_unusable",
    });
  }
  let unlocked: PrivateKey | null = packet.isDecrypted()
    ? chosen
    : options.passphrase === undefined
      ? null
      : await unlock(chosen, options);
  const publicKey = chosen.toPublic().armor();
  return async (releaseText) => {
    unlocked ??= await unlock(chosen, options);
    const now = new Date();
    try {
      const inrelease = await sign({
        // The last "\n" belongs to the clearsign framework (RFC 9580 §7.1), as gpg --clearsign writes it.
        message: await createCleartextMessage({ text: releaseText.slice(0, -1) }),
        signingKeys: unlocked,
        date: now,
      });
      const releaseGpg = await sign({
        // Binary, not text: a text signature would hash CRLF line endings.
        message: await createMessage({ binary: new TextEncoder().encode(releaseText) }),
        signingKeys: unlocked,
        detached: true,
        date: now,
      });
      return { inrelease, releaseGpg, fingerprint, publicKey };
    } catch (cause) {
      throw new UserError(`Signing with key ${fingerprint} failed (${reason(cause)}).`, {
        hint: "openpgp.js may not support this key; sign with --gpg",
        code: "key_unusable",
        cause,
      });
    }
  };
}

/** The first source given wins: a flag over the environment over the config (the CLI's precedence). */
async function loadKeys(source: SigningKeySource): Promise<KeySet> {
  if (source.keyFile !== undefined) {
    let bytes: Buffer;
    try {
      bytes = await readFile(source.keyFile);
    } catch (cause) {
      throw new UserError(`Cannot read the key file ${source.keyFile} (${fsReason(cause)}).`, {
        hint: `pass the path of an exported secret key: ${EXPORT_HINT}`,
        code: "key_file_unreadable",
        cause,
      });
    }
    return { origin: source.keyFile, keys: await parseKeys(bytes, source.keyFile) };
  }
  if (source.keyText !== undefined) {
    const origin = "ARMOR_SIGNING_KEY";
    return { origin, keys: await parseKeys(new TextEncoder().encode(source.keyText), origin) };
  }
  const noKey = () =>
    new UserError("No signing key: give one with --key-file or ARMOR_SIGNING_KEY, or sign with --gpg.", {
      hint:
        source.keyringDir === undefined
          ? EXPORT_HINT
          : `or put the exported secret key in ${source.keyringDir} as a .asc file`,
      code: "no_signing_key",
    });
  if (source.keyringDir === undefined) throw noKey();
  let names: string[];
  try {
    names = (await readdir(source.keyringDir)).filter((f) => f.endsWith(".asc")).sort();
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === "ENOENT") throw noKey();
    throw new UserError(`Cannot read the keyring directory ${source.keyringDir} (${fsReason(cause)}).`, {
      code: "key_file_unreadable",
      cause,
    });
  }
  if (names.length === 0) throw noKey();
  const keys: Key[] = [];
  for (const name of names) {
    const path = join(source.keyringDir, name);
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch (cause) {
      throw new UserError(`Cannot read the key file ${path} (${fsReason(cause)}).`, {
        code: "key_file_unreadable",
        cause,
      });
    }
    for (const key of await parseKeys(bytes, path)) {
      // The same key saved twice is one key; the first file wins.
      if (!keys.some((k) => k.getFingerprint() === key.getFingerprint())) keys.push(key);
    }
  }
  return { origin: source.keyringDir, keys };
}

/** Every key of every armor block (openpgp reads only the first), or of the binary packets. */
async function parseKeys(bytes: Uint8Array, origin: string): Promise<Key[]> {
  const text = new TextDecoder().decode(bytes);
  try {
    if (!text.includes("-----BEGIN PGP ")) return await readKeys({ binaryKeys: bytes });
    const blocks = text.match(/^-----BEGIN PGP [^\n]*-----[\s\S]*?^-----END PGP [^\n]*-----/gm) ?? [];
    if (blocks.length === 0) throw new Error("no complete armor block");
    const keys: Key[] = [];
    for (const block of blocks) keys.push(...(await readKeys({ armoredKeys: block })));
    return keys;
  } catch (cause) {
    throw new UserError(`${origin} does not hold an OpenPGP key (${reason(cause)}).`, {
      hint: EXPORT_HINT,
      code: "invalid_key",
      cause,
    });
  }
}

/** Like gpg -u: a fingerprint or key ID (of the primary key or a subkey), else a user ID substring. */
function chooseKey({ origin, keys }: KeySet, query: string | undefined): PrivateKey {
  const matching = query === undefined ? keys : keys.filter((k) => matches(k, query));
  const secret = matching.filter((k): k is PrivateKey => k.isPrivate());
  const only = secret[0];
  if (only !== undefined && secret.length === 1) return only;
  const forKey = query === undefined ? "" : ` matching "${query}"`;
  if (secret.length > 1) {
    throw new UserError(`${origin} holds ${secret.length} secret keys${forKey}: ${describeKeys(secret)}.`, {
      hint: "choose one with --key=<fingerprint>",
      code: "ambiguous_key",
    });
  }
  const publicMatch = matching[0];
  if (publicMatch !== undefined) {
    throw new UserError(
      `${origin} holds the public key ${publicMatch.getFingerprint().toUpperCase()}${forKey}, not its secret key.`,
      { hint: EXPORT_HINT, code: "public_key" },
    );
  }
  const available = keys.filter((k) => k.isPrivate());
  throw new UserError(`${origin} holds no secret key${forKey}.`, {
    hint:
      available.length === 0
        ? EXPORT_HINT
        : `it holds ${describeKeys(available)}; pass one of these fingerprints with --key`,
    code: "key_not_found",
  });
}

function matches(key: Key, query: string): boolean {
  const hex = query.replace(/\s+/g, "").replace(/^0x/i, "").replace(/!$/, "").toUpperCase();
  if (/^(?:[0-9A-F]{8}|[0-9A-F]{16}|[0-9A-F]{40}|[0-9A-F]{64})$/.test(hex)) {
    return key.getKeys().some((k) => {
      const fingerprint = k.getFingerprint().toUpperCase();
      return hex.length >= 40 ? fingerprint === hex : k.getKeyID().toHex().toUpperCase().endsWith(hex);
    });
  }
  const needle = query.toLowerCase();
  return key.getUserIDs().some((uid) => uid.toLowerCase().includes(needle));
}

/** The subkey (or primary) that will sign, refusing a revoked, expired or sign-less key up front. */
async function usableSigningKey(key: PrivateKey, now: Date) {
  const fingerprint = key.getFingerprint().toUpperCase();
  try {
    return await key.getSigningKey(undefined, now);
  } catch (cause) {
    if (await key.isRevoked(undefined, undefined, now)) {
      throw new UserError(`Key ${fingerprint} is revoked.`, {
        hint: "sign with another key",
        code: "key_unusable",
        cause,
      });
    }
    const expiration = await key.getExpirationTime().catch(() => null);
    if (expiration instanceof Date && expiration <= now) {
      throw new UserError(`Key ${fingerprint} expired on ${expiration.toISOString()}.`, {
        hint: `extend it (\`gpg --quick-set-expire ${fingerprint} 2y\`), export it again and update the repository's key with \`armor key add\``,
        code: "key_unusable",
        cause,
      });
    }
    throw new UserError(`Key ${fingerprint} has no key usable for signing (${reason(cause)}).`, {
      hint: `add a signing subkey (\`gpg --quick-add-key ${fingerprint} ed25519 sign\`) or use another key`,
      code: "key_unusable",
      cause,
    });
  }
}

async function unlock(key: PrivateKey, options: SignOptions): Promise<PrivateKey> {
  const fingerprint = key.getFingerprint().toUpperCase();
  const passphrase =
    options.passphrase ?? (await options.promptPassphrase?.({ fingerprint, userId: key.getUserIDs()[0] }));
  if (passphrase === undefined) {
    throw new UserError(`Key ${fingerprint} is protected by a passphrase and none was given.`, {
      hint: "set ARMOR_SIGNING_PASSPHRASE, or run on a terminal to be asked for it",
      code: "passphrase_required",
    });
  }
  try {
    return await decryptKey({ privateKey: key, passphrase });
  } catch (cause) {
    if (/incorrect key passphrase/i.test(reason(cause))) {
      throw new UserError(`Wrong passphrase for key ${fingerprint}.`, {
        hint: "check ARMOR_SIGNING_PASSPHRASE (or what you typed): it is the passphrase the key had when it was exported",
        code: "bad_passphrase",
        cause,
      });
    }
    throw new UserError(`Cannot unlock key ${fingerprint} (${reason(cause)}).`, {
      hint: "openpgp.js may not support how this key is protected; sign with --gpg",
      code: "key_unusable",
      cause,
    });
  }
}

function describeKeys(keys: readonly Key[]): string {
  return keys
    .map((k) => {
      const uid = k.getUserIDs()[0];
      return uid === undefined ? k.getFingerprint().toUpperCase() : `${k.getFingerprint().toUpperCase()} (${uid})`;
    })
    .join(", ");
}

// ---------------------------------------------------------------------------------------------------
// gpg

const GPG_HINT = "install GnuPG (`apt-get install gnupg`), or sign with openpgp.js: leave out --gpg and use --key-file";

/** libgpg-error codes (gpg-error.h) gpg reports in `[GNUPG:] FAILURE sign <code>`. */
const GPG_ERR = {
  badPassphrase: 11,
  noSecretKey: 17,
  /** The agent could not ask for the passphrase: no pinentry, no terminal, cancelled, none given. */
  noPassphrase: new Set([85, 99, 177, 32870]),
};

interface GpgSecretKey {
  fingerprint: string;
  userIds: string[];
}

async function signWithGpg(releaseText: string, options: SignOptions): Promise<Signed> {
  let fingerprint: string | undefined;
  if (options.key !== undefined) {
    // gpg -u would silently take the first of several matches; refuse, as with openpgp.js keys.
    const found = await listSecretKeys(options.key, options);
    const only = found[0];
    if (only === undefined) {
      throw new UserError(`gpg has no secret key matching "${options.key}".`, {
        hint: "list them with `gpg --list-secret-keys`; import one with `gpg --import`",
        code: "key_not_found",
      });
    }
    if (found.length > 1) {
      const list = found.map((k) => `${k.fingerprint} (${k.userIds[0] ?? "no user ID"})`).join(", ");
      throw new UserError(`"${options.key}" matches ${found.length} secret keys in gpg: ${list}.`, {
        hint: "choose one with --key=<fingerprint>",
        code: "ambiguous_key",
      });
    }
    fingerprint = only.fingerprint;
  }
  const data = new TextEncoder().encode(releaseText);
  const user = options.key === undefined ? [] : ["--local-user", options.key];
  const inrelease = await gpgSign([...user, "--clearsign"], data, options);
  const releaseGpg = await gpgSign([...user, "--armor", "--detach-sign"], data, options);
  if (fingerprint === undefined) fingerprint = await signerOf(releaseGpg, options);
  const exported = await runGpg(["--armor", "--export", "--", fingerprint], options);
  if (exported.code !== 0 || !exported.stdout.includes("-----BEGIN PGP PUBLIC KEY BLOCK-----")) {
    throw gpgFailure(`gpg could not export the public key ${fingerprint}`, exported);
  }
  return { inrelease, releaseGpg, fingerprint, publicKey: exported.stdout };
}

async function gpgSign(args: readonly string[], data: Uint8Array, options: SignOptions): Promise<string> {
  // With a passphrase, gpg takes it on fd 3 (stdin carries the Release); otherwise gpg-agent asks for
  // it with its pinentry, or has it cached, or the key lives on a card that asks for its PIN.
  const loopback = options.passphrase === undefined ? [] : ["--pinentry-mode", "loopback", "--passphrase-fd", "3"];
  const result = await runGpg([...loopback, "--status-fd", "2", ...args], options, data);
  // On failure gpg has already written the clearsign header to stdout: only a 0 exit means a signature.
  if (result.code === 0) return result.stdout;
  const failure = result.status.find((s) => s.startsWith("FAILURE "))?.split(" ")[2];
  const code = failure === undefined ? undefined : Number(failure) & 0xffff;
  const key = options.key ?? "gpg's default key";
  if (code === GPG_ERR.badPassphrase || result.status.includes("BAD_PASSPHRASE")) {
    throw new UserError(`Wrong passphrase for ${key} (gpg).`, {
      hint: "check ARMOR_SIGNING_PASSPHRASE (or what you typed)",
      code: "bad_passphrase",
    });
  }
  if (code !== undefined && GPG_ERR.noPassphrase.has(code)) {
    throw new UserError(`gpg could not get the passphrase for ${key} (${gpgMessage(result)}).`, {
      hint: "set ARMOR_SIGNING_PASSPHRASE, or on a terminal `export GPG_TTY=$(tty)` so gpg-agent can ask for it",
      code: "passphrase_required",
    });
  }
  if (code === GPG_ERR.noSecretKey || result.status.some((s) => s.startsWith("INV_SGNR "))) {
    throw new UserError(`gpg cannot sign with ${key} (${gpgMessage(result)}).`, {
      hint: "check `gpg --list-secret-keys`: the key must be there, valid and able to sign (for a card, plugged in)",
      code: "key_unusable",
    });
  }
  throw gpgFailure("gpg failed to sign", result);
}

/** `gpg --with-colons --list-secret-keys`: the primary fingerprint and user IDs of each match. */
async function listSecretKeys(query: string, options: SignOptions): Promise<GpgSecretKey[]> {
  const result = await runGpg(["--with-colons", "--list-secret-keys", "--", query], options);
  // gpg exits 2 when nothing matches; anything else unexpected shows up as an empty list.
  const keys: GpgSecretKey[] = [];
  let current: GpgSecretKey | undefined;
  let expectPrimaryFpr = false;
  for (const line of result.stdout.split("\n")) {
    const fields = line.split(":");
    const type = fields[0];
    if (type === "sec") {
      current = { fingerprint: "", userIds: [] };
      keys.push(current);
      expectPrimaryFpr = true;
    } else if (type === "ssb") {
      expectPrimaryFpr = false;
    } else if (type === "fpr" && expectPrimaryFpr && current !== undefined) {
      current.fingerprint = (fields[9] ?? "").toUpperCase();
      expectPrimaryFpr = false;
    } else if (type === "uid" && current !== undefined) {
      current.userIds.push(unescapeColons(fields[9] ?? ""));
    }
  }
  if (result.code !== 0 && keys.length === 0 && !/no secret key|not found/i.test(result.stderr)) {
    throw gpgFailure("gpg could not list its secret keys", result);
  }
  return keys.filter((k) => k.fingerprint !== "");
}

/** The primary fingerprint of the key that made a signature, when gpg chose the key itself. */
async function signerOf(armoredSignature: string, options: SignOptions): Promise<string> {
  const signature = await readSignature({ armoredSignature });
  const packet = signature.packets[0];
  const issuer = packet?.issuerFingerprint
    ? Array.from(packet.issuerFingerprint, (b) => b.toString(16).padStart(2, "0")).join("")
    : packet?.issuerKeyID.toHex();
  const found = issuer === undefined ? [] : await listSecretKeys(issuer, options);
  const only = found[0];
  if (only === undefined || found.length > 1) {
    throw new UserError("Cannot tell which gpg key made the signature.", {
      hint: "name it with --key=<fingerprint>",
      code: "gpg_failed",
    });
  }
  return only.fingerprint;
}

interface GpgResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** `[GNUPG:]` status lines (doc/DETAILS in GnuPG), without the prefix. */
  status: string[];
}

/** Run gpg with arguments (never a shell string), `input` on stdin and the passphrase, if any, on fd 3. */
function runGpg(args: readonly string[], options: SignOptions, input?: Uint8Array): Promise<GpgResult> {
  const home = options.gpgHome === undefined ? [] : ["--homedir", options.gpgHome];
  const child = spawn("gpg", [...home, "--batch", ...args], {
    stdio: ["pipe", "pipe", "pipe", "pipe"],
    env: gpgEnv(),
  });
  return new Promise((resolve, reject) => {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on("data", (chunk: Buffer) => out.push(chunk));
    child.stderr?.on("data", (chunk: Buffer) => err.push(chunk));
    child.on("error", (cause: NodeJS.ErrnoException) => {
      reject(
        cause.code === "ENOENT"
          ? new UserError("gpg is not installed.", { hint: GPG_HINT, code: "gpg_missing", cause })
          : new UserError(`Cannot run gpg (${cause.message}).`, { hint: GPG_HINT, code: "gpg_failed", cause }),
      );
    });
    child.on("close", (code) => {
      const stderr = Buffer.concat(err).toString("utf8");
      const status = stderr.split("\n").flatMap((l) => (l.startsWith("[GNUPG:] ") ? [l.slice(9)] : []));
      resolve({ code, stdout: Buffer.concat(out).toString("utf8"), stderr, status });
    });
    // gpg may exit before reading everything (a missing key): its closed pipes are not our error.
    const passphraseFd = child.stdio[3];
    for (const stream of [child.stdin, passphraseFd]) stream?.on("error", () => {});
    if (passphraseFd !== null && passphraseFd !== undefined && "end" in passphraseFd) {
      passphraseFd.end(options.passphrase === undefined ? "" : `${options.passphrase}\n`);
    }
    child.stdin?.end(input);
  });
}

/**
 * gpg's stdin is the Release, so gpg-agent cannot find the terminal to ask for a passphrase on by
 * itself: tell it, as `export GPG_TTY=$(tty)` would (gpg-agent(1)).
 */
function gpgEnv(): NodeJS.ProcessEnv {
  if (process.env.GPG_TTY !== undefined || !process.stdin.isTTY) return process.env;
  const tty = spawnSync("tty", [], { stdio: ["inherit", "pipe", "ignore"], encoding: "utf8" });
  const name = tty.status === 0 ? tty.stdout.trim() : "";
  return name.startsWith("/dev/") ? { ...process.env, GPG_TTY: name } : process.env;
}

function gpgFailure(what: string, result: GpgResult): UserError {
  return new UserError(`${what} (${gpgMessage(result)}).`, {
    hint: "run the same gpg command by hand to see what it needs",
    code: "gpg_failed",
  });
}

/** gpg's own words: its last "gpg: …" line, or the exit code. */
function gpgMessage(result: GpgResult): string {
  const said = result.stderr
    .split("\n")
    .filter((l) => l.startsWith("gpg: "))
    .at(-1);
  return said?.slice(5).trim() || `exit code ${result.code}`;
}

/** `--with-colons` escapes ":" and other bytes as \xNN (GnuPG doc/DETAILS). */
function unescapeColons(text: string): string {
  return text.replace(/\\x([0-9a-fA-F]{2})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
}

// ---------------------------------------------------------------------------------------------------

function lineOf(text: string, index: number): number {
  let line = 1;
  for (let i = text.indexOf("\n"); i !== -1 && i < index; i = text.indexOf("\n", i + 1)) line++;
  return line;
}

function clip(text: string): string {
  return JSON.stringify(text.length > 60 ? `${text.slice(0, 57)}...` : text);
}

function reason(cause: unknown): string {
  return (cause instanceof Error ? cause.message : String(cause)).replace(/\.$/, "");
}

function fsReason(cause: unknown): string {
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  if (code === "ENOENT") return "no such file";
  if (code === "EACCES") return "permission denied";
  if (code === "EISDIR") return "it is a directory";
  return reason(cause);
}
