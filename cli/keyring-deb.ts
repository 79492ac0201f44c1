/**
 * `armor keyring build`: the `{name}-archive-keyring` package a repository's users install, holding
 * the public keys apt checks its Release signatures with, as Debian ships debian-archive-keyring.
 * Built in memory with deb/'s writer.
 */
import { readKeys } from "openpgp";
import { parseControl } from "../deb/control.ts";
import { buildDeb } from "../deb/deb-writer.ts";
import { parseVersion, versionWithoutEpoch } from "../deb/version.ts";
import { buildKeyring, inspectPublicKey } from "../pgp/keys.ts";
import { PACKAGE_NAME } from "../schema/limits.ts";
import { UserError } from "./errors.ts";

export interface KeyringDebInput {
  /** The repository's short name: "acme-tools" makes the package "acme-tools-archive-keyring". */
  name: string;
  /** The package's Debian version (Policy §5.6.12); bump it whenever the keys change. */
  version: string;
  /** Armored public keys; each block may hold several keys. */
  keys: string[];
  /** The Maintainer field (Policy §5.6.2): "Name <email>". */
  maintainer?: string;
  /**
   * Leave revoked keys out instead of refusing them: a repository's archive keyring carries its
   * revoked keys (so importers learn of the revocation), but the package holds only the keys
   * that sign, as Debian keeps removed keys out of debian-archive-keyring.
   */
  omitRevoked?: boolean;
}

export interface KeyringDeb {
  /** `{package}_{version without epoch}_all.deb`, as dpkg-name would call it. */
  fileName: string;
  bytes: Uint8Array;
  /** Fingerprints of the keys in the package. */
  included: string[];
  /** Fingerprints of the revoked keys left out (with `omitRevoked`). */
  omitted: string[];
}

const DEFAULT_MAINTAINER = "Armor <noreply@armor.invalid>";
const MAINTAINER = /^[^<>\n]*[^<>\s][^<>\n]* <[^<>\s@]+@[^<>\s@]+>$/;

/**
 * Build `{name}-archive-keyring_{version}_all.deb`. It installs one file,
 * /usr/share/keyrings/{name}-archive-keyring.gpg: the public keys as binary OpenPGP packets (what
 * `gpg --export` writes), for a `Signed-By:` field in the repository's deb822 .sources entry.
 *
 * Only the binary keyring, no .asc beside it: it is Debian's convention (debian-archive-keyring,
 * ubuntu-keyring), every apt release reads it (armored keyrings need apt ≥ 1.4), gpgv reads it
 * directly, and one file leaves no doubt about which one a `Signed-By:` should name.
 * Not in /etc/apt/trusted.gpg.d: there apt would trust the keys for every repository
 * (https://wiki.debian.org/DebianRepository/UseThirdParty).
 *
 * @throws UserError for a bad name, version or maintainer, no keys, a secret key, or a key apt's
 * gpgv would not accept signatures from (expired, revoked, unable to sign, too weak).
 */
export async function buildKeyringDeb(input: KeyringDebInput): Promise<KeyringDeb> {
  const pkg = `${input.name}-archive-keyring`;
  if (!PACKAGE_NAME.test(pkg) || pkg.length > 128) {
    throw new UserError(`"${input.name}" cannot name a keyring package: "${pkg}" is not a valid package name.`, {
      hint: "use lowercase letters, digits and + - . only, starting with a letter or digit (Debian Policy §5.6.1)",
      code: "bad_package_name",
    });
  }
  const version = parseVersion(input.version);
  if ("reason" in version) {
    throw new UserError(`"${input.version.slice(0, 80)}" is not a Debian version: it ${version.reason}.`, {
      hint: "give a version such as 2026.11.22 or 1.0-1, higher than the last keyring's (Debian Policy §5.6.12)",
      code: "bad_version",
    });
  }
  const maintainer = input.maintainer ?? DEFAULT_MAINTAINER;
  if (!MAINTAINER.test(maintainer)) {
    throw new UserError(`"${maintainer.slice(0, 80)}" is not a Maintainer field.`, {
      hint: 'write it as "Full Name <email@example.com>" (Debian Policy §5.6.2)',
      code: "bad_maintainer",
    });
  }
  const { checked: keys, omitted } = await publicKeys(input.keys, input.omitRevoked === true);
  const { binary } = await buildKeyring(keys.map((k) => k.armored));
  const file = `/usr/share/keyrings/${pkg}.gpg`;
  const fields = [
    { name: "Package", value: pkg },
    { name: "Version", value: input.version },
    { name: "Architecture", value: "all" },
    { name: "Maintainer", value: maintainer },
    { name: "Section", value: "misc" },
    { name: "Priority", value: "optional" },
    { name: "Multi-Arch", value: "foreign" },
    {
      name: "Description",
      value: [
        `OpenPGP archive keyring of the ${input.name} APT repository`,
        ` The keys that sign the ${input.name} repository's Release files, in`,
        ` ${file},`,
        " for the Signed-By field of its APT sources entry. Fingerprints:",
        // Verbatim lines (two spaces), the user ID under its fingerprint to stay within 80 columns.
        ...keys.flatMap((k) => [`  ${k.fingerprint}`, ...(k.userId === "" ? [] : [`    ${k.userId}`])]),
      ].join("\n"),
    },
  ];
  // deb/'s own parser, the one uploads go through, has the last word on the paragraph.
  const control = parseControl(`${fields.map((f) => `${f.name}: ${f.value}`).join("\n")}\n`);
  if (!control.ok) throw new Error(`the keyring package's control file does not parse: ${control.error.message}`);
  // Reproducible: the same keys and version give the same bytes; the files date from the newest key.
  const mtime = Math.max(...keys.map((k) => Math.floor(k.createdAt.getTime() / 1000)));
  const bytes = buildDeb({ fields, files: [{ path: file, data: binary }], mtime });
  return {
    fileName: `${pkg}_${versionWithoutEpoch(input.version)}_all.deb`,
    bytes,
    included: keys.map((k) => k.fingerprint),
    omitted,
  };
}

interface CheckedKey {
  fingerprint: string;
  /** The first user ID on one line, or "". */
  userId: string;
  createdAt: Date;
  armored: string;
}

const NO_KEYS_HINT =
  "give the repository's public keys (`armor key list`), exported with `gpg --armor --export <fingerprint>`";

/** Each key of each block, checked as the repository checks a key it is asked to trust. */
async function publicKeys(
  blocks: readonly string[],
  omitRevoked: boolean,
): Promise<{ checked: CheckedKey[]; omitted: string[] }> {
  if (blocks.length === 0) {
    throw new UserError("No keys to put in the keyring.", { hint: NO_KEYS_HINT, code: "no_keys" });
  }
  const checked: CheckedKey[] = [];
  const omitted: string[] = [];
  for (const [index, block] of blocks.entries()) {
    const which = blocks.length === 1 ? "The key" : `Key #${index + 1}`;
    const armors = block.match(/^-----BEGIN PGP [^\n]*-----[\s\S]*?^-----END PGP [^\n]*-----/gm) ?? [];
    const keys: Awaited<ReturnType<typeof readKeys>> = [];
    try {
      if (armors.length === 0) throw new Error("no armor block");
      for (const armored of armors) keys.push(...(await readKeys({ armoredKeys: armored })));
    } catch (cause) {
      throw new UserError(`${which} is not an armored OpenPGP public key (${reason(cause)}).`, {
        hint: "export it with `gpg --armor --export <fingerprint>`",
        code: "invalid_key",
        cause,
      });
    }
    const secret = keys.find((k) => k.isPrivate());
    if (secret !== undefined) {
      const fingerprint = secret.getFingerprint().toUpperCase();
      throw new UserError(`${which} is a secret key (${fingerprint}): a keyring package must hold public keys only.`, {
        hint: `export the public half with \`gpg --armor --export ${fingerprint}\`, and keep the secret key to yourself`,
        code: "secret_key",
      });
    }
    for (const key of keys) {
      const info = await inspectPublicKey(key.armor());
      if (!info.ok && info.error.code === "key_revoked" && omitRevoked) {
        omitted.push(key.getFingerprint().toUpperCase());
        continue;
      }
      if (!info.ok) throw new UserError(`${which}: ${info.error.message}`, { code: info.error.code });
      if (checked.some((k) => k.fingerprint === info.value.fingerprint)) continue;
      checked.push({
        fingerprint: info.value.fingerprint,
        userId: oneLine(info.value.userIds[0] ?? ""),
        createdAt: new Date(info.value.createdAt),
        armored: info.value.armored,
      });
    }
  }
  if (checked.length === 0) {
    throw new UserError(`No keys to put in the keyring: every key is revoked (${omitted.join(", ")}).`, {
      hint: "add a key that signs with `armor key add`",
      code: "no_keys",
    });
  }
  return { checked, omitted };
}

function reason(cause: unknown): string {
  return (cause instanceof Error ? cause.message : String(cause)).replace(/\.$/, "");
}

/** A user ID is free text (RFC 9580 §5.11): in a control file a newline in it would start a new field. */
function oneLine(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point.
  return text.replace(/[\0-\x1f\x7f]+/g, " ").trim();
}
