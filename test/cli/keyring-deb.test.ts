import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, inject, it, onTestFinished } from "vitest";
import { buildKeyringDeb, type KeyringDebInput } from "../../cli/keyring-deb.ts";
import { signRelease } from "../../cli/signing.ts";
import { readDeb } from "../../deb/deb-reader.ts";
import { freshKey, gpgTool, gpgv, refusal, tempDir, tool, validSignatures, writeFiles } from "./gpg-tools.ts";

const keys = inject("keys");
const { releaseText } = inject("gpgSigned");
const input: KeyringDebInput = { name: "acme-tools", version: "2026.11.22", keys: [keys.trusted.public] };
const KEYRING = "/usr/share/keyrings/acme-tools-archive-keyring.gpg";

function temp(prefix: string): string {
  const dir = tempDir(prefix);
  onTestFinished(dir.cleanup);
  return dir.path;
}

/** dpkg into an empty root of its own, as an unprivileged user could: no chroot, no maintainer scripts. */
function dpkgInstall(debPath: string): { root: string; status: number | null; stderr: string; dpkg: string[] } {
  const root = temp("dpkg-root");
  const admindir = join(root, "var/lib/dpkg");
  // What debootstrap leaves; dpkg 1.21 would create all of it itself, an empty status file included.
  for (const dir of ["info", "updates", "triggers"]) mkdirSync(join(admindir, dir), { recursive: true });
  writeFileSync(join(admindir, "status"), "");
  const dpkg = [
    "--root",
    root,
    "--admindir",
    admindir,
    `--log=${join(root, "dpkg.log")}`,
    "--force-not-root",
    "--force-script-chrootless",
  ];
  const r = tool("dpkg", [...dpkg, "-i", debPath]);
  return { root, status: r.status, stderr: r.stderr, dpkg };
}

describe("buildKeyringDeb", () => {
  it("builds a package dpkg-deb reads, holding the keyring and nothing else", async ({ expect }) => {
    const deb = await buildKeyringDeb({ ...input, keys: [keys.trusted.public, keys.untrusted.public] });
    expect(deb.fileName).toBe("acme-tools-archive-keyring_2026.11.22_all.deb");
    const path = writeFiles(temp("deb"), { [deb.fileName]: deb.bytes })[deb.fileName] ?? "";
    const info = tool("dpkg-deb", ["--field", path]);
    expect(info.status).toBe(0);
    expect(info.stdout.toString()).toBe(
      [
        "Package: acme-tools-archive-keyring",
        "Version: 2026.11.22",
        "Architecture: all",
        "Maintainer: Armor <noreply@armor.invalid>",
        "Section: misc",
        "Priority: optional",
        "Multi-Arch: foreign",
        "Description: OpenPGP archive keyring of the acme-tools APT repository",
        " The keys that sign the acme-tools repository's Release files, in",
        ` ${KEYRING},`,
        " for the Signed-By field of its APT sources entry. Fingerprints:",
        `  ${keys.trusted.fingerprint}`,
        "    Armor Test Signing Key (TEST ONLY, DO NOT TRUST) <trusted@armor.test>",
        `  ${keys.untrusted.fingerprint}`,
        "    Armor Untrusted Key (TEST ONLY) <untrusted@armor.test>",
        "Installed-Size: 5",
        "",
      ].join("\n"),
    );
    expect(tool("dpkg-deb", ["--info", path]).status).toBe(0);
    const contents = tool("dpkg-deb", ["--contents", path]);
    expect(contents.status).toBe(0);
    expect(
      contents.stdout
        .toString()
        .trim()
        .split("\n")
        .map((l) => l.split(/\s+/).at(-1)),
    ).toEqual(["./", "./usr/", "./usr/share/", "./usr/share/keyrings/", `.${KEYRING}`]);
    // The keyring holds both keys, public halves only, as gpg reads it.
    const shown = gpgTool(["--with-colons", "--show-keys", "-"], dpkgExtract(path, KEYRING));
    const records = shown.stdout.toString().split("\n");
    // The fpr record after each pub record is that primary key's fingerprint (GnuPG doc/DETAILS).
    const primaries = records.flatMap((r, i) => (r.startsWith("pub:") ? [records[i + 1]?.split(":")[9]] : []));
    expect(primaries).toEqual([keys.trusted.fingerprint, keys.untrusted.fingerprint]);
    expect(records.filter((r) => /^(sec|ssb):/.test(r))).toEqual([]);
  });

  it("is a package the repository's own reader accepts", async ({ expect }) => {
    const deb = await buildKeyringDeb(input);
    const parsed = await readDeb(
      (async function* () {
        yield deb.bytes;
      })(),
    );
    expect(
      parsed.ok && [parsed.value.control.package, parsed.value.control.version, parsed.value.control.architecture],
    ).toEqual(["acme-tools-archive-keyring", "2026.11.22", "all"]);
  });

  it("installs with dpkg into a temporary root, and its keyring verifies what armor signs", async ({ expect }) => {
    const deb = await buildKeyringDeb({
      ...input,
      version: "1:2026.11.22",
      keys: [keys.trusted.public, keys.untrusted.public],
    });
    expect(deb.fileName).toBe("acme-tools-archive-keyring_2026.11.22_all.deb");
    const debPath = writeFiles(temp("deb"), { [deb.fileName]: deb.bytes })[deb.fileName] ?? "";
    const installed = dpkgInstall(debPath);
    expect({ status: installed.status, stderr: installed.stderr }).toEqual({ status: 0, stderr: "" });
    const status = tool("dpkg", [...installed.dpkg, "--status", "acme-tools-archive-keyring"]).stdout.toString();
    expect(status).toMatch(/^Status: install ok installed$/m);
    expect(status).toMatch(/^Version: 1:2026\.11\.22$/m);
    const keyring = join(installed.root, KEYRING);

    const dir = temp("signed");
    const release = writeFiles(dir, { Release: releaseText }).Release;
    for (const signer of [keys.trusted, keys.untrusted]) {
      const signed = await signRelease(releaseText, { keyText: signer.secret });
      const files = writeFiles(dir, { InRelease: signed.inrelease, "Release.gpg": signed.releaseGpg });
      const inrelease = gpgv(keyring, [files.InRelease]);
      const detached = gpgv(keyring, [files["Release.gpg"], release]);
      expect([inrelease.status, validSignatures(inrelease), detached.status, validSignatures(detached)]).toEqual([
        0,
        [signer.fingerprint],
        0,
        [signer.fingerprint],
      ]);
    }
    // A key the package does not hold is refused, as apt would refuse the repository.
    const stranger = await freshKey({ name: "stranger" });
    const signed = await signRelease(releaseText, { keyText: stranger.secret });
    const files = writeFiles(dir, { InRelease: signed.inrelease });
    const refused = gpgv(keyring, [files.InRelease]);
    expect(refused.status).not.toBe(0);
    expect(refused.gnupg.some((l) => l.startsWith("NO_PUBKEY ") || l.startsWith("ERRSIG "))).toBe(true);
  });

  it("is reproducible and lists each key once", async ({ expect }) => {
    const once = await buildKeyringDeb(input);
    const twice = await buildKeyringDeb({ ...input, keys: [keys.trusted.public, keys.trusted.public] });
    expect(Buffer.from(twice.bytes).equals(Buffer.from(once.bytes))).toBe(true);
  });

  it.for([
    [
      "an uppercase name",
      { name: "Acme" },
      "bad_package_name",
      '"Acme" cannot name a keyring package: "Acme-archive-keyring" is not a valid package name.',
    ],
    [
      "an underscore",
      { name: "acme_tools" },
      "bad_package_name",
      '"acme_tools" cannot name a keyring package: "acme_tools-archive-keyring" is not a valid package name.',
    ],
    [
      "an empty name",
      { name: "" },
      "bad_package_name",
      '"" cannot name a keyring package: "-archive-keyring" is not a valid package name.',
    ],
    [
      "a version not starting with a digit",
      { version: "v1" },
      "bad_version",
      '"v1" is not a Debian version: it must start with a digit (after the epoch).',
    ],
    [
      "a version that would forge a field",
      { version: "1.0\nEssential: yes" },
      "bad_version",
      '"1.0\nEssential: yes" is not a Debian version: it has an epoch that is not a number.',
    ],
    ["a maintainer without e-mail", { maintainer: "Acme" }, "bad_maintainer", '"Acme" is not a Maintainer field.'],
    ["no keys", { keys: [] as string[] }, "no_keys", "No keys to put in the keyring."],
  ] as const)("refuses %s", async ([, change, code, message], { expect }) => {
    expect(await refusal(buildKeyringDeb({ ...input, ...change }))).toMatchObject({
      code,
      message,
    });
  });

  it("leaves revoked keys out when asked, as the repository's keyring carries them", async ({ expect }) => {
    const deb = await buildKeyringDeb({
      ...input,
      keys: [keys.trusted.public, keys.revoked.public],
      omitRevoked: true,
    });
    expect(deb.included).toEqual([keys.trusted.fingerprint]);
    expect(deb.omitted).toEqual([keys.revoked.fingerprint]);
    expect(await refusal(buildKeyringDeb({ ...input, keys: [keys.revoked.public], omitRevoked: true }))).toMatchObject({
      code: "no_keys",
      message: `No keys to put in the keyring: every key is revoked (${keys.revoked.fingerprint}).`,
    });
  });

  it("refuses a secret key, and says how to export the public half", async ({ expect }) => {
    expect(await refusal(buildKeyringDeb({ ...input, keys: [keys.trusted.public, keys.untrusted.secret] }))).toEqual({
      code: "secret_key",
      message: `Key #2 is a secret key (${keys.untrusted.fingerprint}): a keyring package must hold public keys only.`,
      hint: `export the public half with \`gpg --armor --export ${keys.untrusted.fingerprint}\`, and keep the secret key to yourself`,
    });
  });

  it.for([
    ["text that is not a key", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI user@host", "invalid_key"],
    ["a signature", "gpgSigned", "invalid_key"],
    ["an expired key", "expired", "key_expired"],
    ["a revoked key", "revoked", "key_revoked"],
  ] as const)("refuses %s, as the repository refuses to trust it", async ([, which, code], { expect }) => {
    const text =
      which === "expired" || which === "revoked"
        ? keys[which].public
        : which === "gpgSigned"
          ? inject("gpgSigned").trusted.releaseGpg
          : which;
    expect(await refusal(buildKeyringDeb({ ...input, keys: [text] }))).toMatchObject({
      code,
      message: expect.stringMatching(/^The key/),
    });
  });
});

/** One file of a package's data, as dpkg-deb extracts it. */
function dpkgExtract(debPath: string, file: string): Buffer {
  const dir = temp("extract");
  const r = tool("dpkg-deb", ["--extract", debPath, dir]);
  if (r.status !== 0) throw new Error(`dpkg-deb --extract failed: ${r.stderr}`);
  return readFileSync(join(dir, file));
}
