/**
 * `armor index sign`: the two signatures apt checks on a dist's Release (apt-secure(8)), an InRelease
 * clearsigned as `gpg --clearsign` does and a Release.gpg detached over the exact bytes, made with
 * openpgp.js from a key file, the environment or the config's keyring directory, or delegated to the
 * system's gpg (cli/gpg.ts: smartcards, YubiKeys, agent-held keys). Either way the result is checked with the
 * server's own verifier before it is returned, so what fails here never reaches an upload.
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { createCleartextMessage, createMessage, decryptKey, type Key, type PrivateKey, readKeys, sign } from "openpgp";
import { validateReleaseText } from "../deb/release.ts";
import { verifyReleaseSignatures } from "../pgp/release-signatures.ts";
import { UserError } from "./errors.ts";
import { signWithGpg } from "./gpg.ts";

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

/**
 * Check that a Release text is what the server generates before signing it (deb/release.ts
 * validateReleaseText says what is checked).
 * @throws UserError naming the first problem and its line.
 */
export function checkReleaseText(text: string): void {
  const checked = validateReleaseText(text);
  if (!checked.ok) {
    throw new UserError(`The Release text is not well-formed: ${checked.error.message}.`, {
      hint: RELEASE_HINT,
      code: "malformed_release",
    });
  }
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

export interface Signed extends Signatures {
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
