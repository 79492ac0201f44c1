import { join } from "node:path";
import { readPrivateKey } from "openpgp";
import { describe, inject, it, onTestFinished } from "vitest";
import { UserError } from "../../cli/errors.ts";
import { checkReleaseText, prepareSigner, type Signatures, type SignOptions, signRelease } from "../../cli/signing.ts";
import { verifyReleaseSignatures } from "../../pgp/release-signatures.ts";
import {
  dearmoredKeyring,
  freshKey,
  gpgHome,
  gpgTool,
  gpgv,
  lockedKey,
  refusal,
  tempDir,
  validSignatures,
  writeFiles,
} from "./gpg-tools.ts";

const keys = inject("keys");
const { releaseText } = inject("gpgSigned");
const trusted = keys.trusted;

function temp(prefix: string): string {
  const dir = tempDir(prefix);
  onTestFinished(dir.cleanup);
  return dir.path;
}

function home(secretKeys: readonly string[]): string {
  const h = gpgHome(secretKeys);
  onTestFinished(h.cleanup);
  return h.path;
}

function refusalOf(run: () => void): { code: string; message: string } {
  try {
    run();
  } catch (e) {
    if (e instanceof UserError) return { code: e.code, message: e.message };
    throw e;
  }
  throw new Error("expected a UserError");
}

/**
 * What apt would do with the two files: gpgv verifies each against a keyring holding only the
 * trusted key, and the text gpgv extracts from InRelease is the Release, byte for byte.
 */
function checkWithGpgv(signed: Signatures, publicKeys: readonly string[] = [trusted.public]) {
  const dir = temp("gpgv");
  const keyring = dearmoredKeyring(dir, publicKeys);
  const files = writeFiles(dir, {
    InRelease: signed.inrelease,
    Release: releaseText,
    "Release.gpg": signed.releaseGpg,
  });
  const inrelease = gpgv(keyring, ["--output", "-", files.InRelease]);
  const detached = gpgv(keyring, [files["Release.gpg"], files.Release]);
  return {
    inrelease: { status: inrelease.status, signers: validSignatures(inrelease), text: inrelease.stdout.toString() },
    detached: { status: detached.status, signers: validSignatures(detached) },
  };
}

async function serverVerdict(signed: Signatures) {
  const result = await verifyReleaseSignatures({
    releaseText,
    inrelease: signed.inrelease,
    releaseGpg: signed.releaseGpg,
    fingerprint: signed.fingerprint,
    trustedKeys: [trusted.public],
  });
  return result.ok ? { ok: true, fingerprint: result.value.fingerprint } : result;
}

const fixtureKeyFile = (name: string) => join(import.meta.dirname, "../fixtures/keys", name);

describe("checkReleaseText", () => {
  it("accepts a Release as the server renders it", ({ expect }) => {
    expect(() => checkReleaseText(releaseText)).not.toThrow();
  });

  const sha256Line = releaseText.split("\n").indexOf("SHA256:") + 2;
  const replaceLine = (n: number, by: string) =>
    releaseText
      .split("\n")
      .map((l, i) => (i === n - 1 ? by : l))
      .join("\n");
  const withoutField = (name: string) =>
    releaseText
      .split("\n")
      .filter((l) => !l.startsWith(`${name}:`))
      .join("\n");

  it.for([
    ["an empty text", "", "it is empty"],
    [
      "CRLF line endings",
      releaseText.replaceAll("\n", "\r\n"),
      'line 1 has a carriage return; a Release uses "\\n" line endings',
    ],
    ["a NUL byte", releaseText.replace("Armor", "Ar\0mor"), "line 1 has the control character U+0000"],
    ["no final newline", releaseText.slice(0, -1), "it does not end with a newline"],
    [
      "two final newlines",
      `${releaseText}\n`,
      `line ${releaseText.split("\n").length} is blank; a Release is one paragraph`,
    ],
    [
      "a blank line inside",
      releaseText.replace("\nSuite:", "\n\nSuite:"),
      "line 3 is blank; a Release is one paragraph",
    ],
    [
      'a line starting with "-"',
      releaseText.replace("\nSuite:", "\n-----BEGIN PGP SIGNATURE-----\nSuite:"),
      'line 3 starts with "-", which is neither a field nor a continuation line',
    ],
    [
      "trailing whitespace",
      releaseText.replace("Origin: Armor", "Origin: Armor "),
      "line 1 ends with whitespace, which a clearsigned signature does not cover",
    ],
    ["a continuation line first", ` x\n${releaseText}`, "line 1 is a continuation line with no field before it"],
    [
      "a line that is no field",
      `${releaseText}hello\n`,
      `line ${releaseText.split("\n").length} is neither "Field: value" nor a continuation line: "hello"`,
    ],
    ["a duplicate field", `Suite: evil\n${releaseText}`, `the field Suite appears twice (line ${4})`],
    [
      "neither Suite nor Codename",
      withoutField("Suite").replace(/^Codename:.*\n/m, ""),
      "it has neither a Suite nor a Codename field",
    ],
    ["no Date", withoutField("Date"), "it has no Date field"],
    [
      "an ISO 8601 Date",
      releaseText.replace(/^Date: .*$/m, "Date: 2026-11-22T01:02:03Z"),
      'Date (line 5) is not a date like "Sat, 11 Jul 2026 10:16:37 UTC": "2026-11-22T01:02:03Z"',
    ],
    ["no SHA256 list", releaseText.replace(/^SHA256:\n( .*\n)+/m, ""), "it has no SHA256 list of index files"],
    [
      "a short SHA256",
      replaceLine(sha256Line, " 0123abcd 5 main/binary-all/Packages"),
      `line ${sha256Line} in SHA256 is not " <64 hex digits> <size> <path>": " 0123abcd 5 main/binary-all/Packages"`,
    ],
    [
      "a path going up",
      replaceLine(sha256Line, ` ${"a".repeat(64)} 5 main/../../etc/passwd`),
      `line ${sha256Line} in SHA256 is not " <64 hex digits> <size> <path>": " ${"a".repeat(56)}..."`,
    ],
    [
      "an entry on the SHA256 line",
      releaseText.replace("SHA256:\n", `SHA256: ${"a".repeat(64)} 5 x\n`),
      `SHA256 (line ${sha256Line - 1}) must have its entries on the lines after it`,
    ],
  ] as const)("refuses %s", ([, text, problem], { expect }) => {
    expect(refusalOf(() => checkReleaseText(text))).toEqual({
      code: "malformed_release",
      message: `The Release text is not well-formed: ${problem}.`,
    });
  });

  it("is what signRelease checks first, with a hint, in both modes", async ({ expect }) => {
    for (const gpg of [false, true]) {
      const error = await refusal(
        signRelease(releaseText.replace("\nSuite:", "\n\nSuite:"), { keyText: trusted.secret, gpg }),
      );
      expect(error).toEqual({
        code: "malformed_release",
        message: "The Release text is not well-formed: line 3 is blank; a Release is one paragraph.",
        hint: "sign the release_text printed by `armor index generate` unchanged; if it was edited, generate it again",
      });
    }
  });
});

describe("signRelease with openpgp.js", () => {
  it("signs so that gpgv accepts both files and InRelease holds the Release byte for byte", async ({ expect }) => {
    const signed = await signRelease(releaseText, { keyFile: fixtureKeyFile("trusted.sec.asc") });
    expect(signed.fingerprint).toBe(trusted.fingerprint);
    expect(signed.inrelease).toMatch(/^-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA\d+\n\nOrigin: Armor\n/);
    expect(signed.releaseGpg).toMatch(/^-----BEGIN PGP SIGNATURE-----\n/);
    const gpgvSays = checkWithGpgv(signed);
    expect(gpgvSays).toEqual({
      inrelease: { status: 0, signers: [trusted.fingerprint], text: releaseText },
      detached: { status: 0, signers: [trusted.fingerprint] },
    });
    expect(await serverVerdict(signed)).toEqual({ ok: true, fingerprint: trusted.fingerprint });
  });

  it("is refused by gpgv against a keyring without the key", async ({ expect }) => {
    const signed = await signRelease(releaseText, { keyText: trusted.secret });
    const gpgvSays = checkWithGpgv(signed, [keys.untrusted.public]);
    expect([gpgvSays.inrelease.status, gpgvSays.detached.status]).toEqual([2, 2]);
  });

  it("takes the key from a binary file (gpg --export-secret-keys without --armor)", async ({ expect }) => {
    const dir = temp("binary-key");
    const binary = gpgTool(["--dearmor"], trusted.secret).stdout;
    const { key } = writeFiles(dir, { key: binary });
    const signed = await signRelease(releaseText, { keyFile: key });
    expect(checkWithGpgv(signed).detached).toEqual({ status: 0, signers: [trusted.fingerprint] });
  });

  it.for([
    ["its fingerprint", trusted.fingerprint],
    ["its fingerprint in gpg's grouping, lowercase", "c409 21a4 dc13 9a6c 66d1  d6ce f9fe 9401 91d9 6b5c"],
    ["its long key ID with 0x", `0x${trusted.fingerprint.slice(-16)}`],
    ["its short key ID", trusted.fingerprint.slice(-8)],
    ["its e-mail in angle brackets", "<trusted@armor.test>"],
    ["a piece of its user ID, any case", "signing key"],
  ] as const)("picks the key by %s from the keyring directory", async ([, key], { expect }) => {
    const dir = temp("keyring-dir");
    writeFiles(dir, {
      "a-trusted.asc": trusted.secret,
      "b-untrusted.asc": keys.untrusted.secret,
      "c-public.asc": keys.revoked.public,
      "notes.txt": "not a key, and not read",
    });
    const signed = await signRelease(releaseText, { keyringDir: dir, key });
    expect(signed.fingerprint).toBe(trusted.fingerprint);
    expect(await serverVerdict(signed)).toEqual({ ok: true, fingerprint: trusted.fingerprint });
  });

  it("prefers the key file over the key text over the keyring directory", async ({ expect }) => {
    const dir = temp("precedence");
    const files = writeFiles(dir, { "untrusted.asc": keys.untrusted.secret });
    const source: SignOptions = { keyringDir: dir };
    expect((await signRelease(releaseText, source)).fingerprint).toBe(keys.untrusted.fingerprint);
    source.keyText = trusted.secret;
    expect((await signRelease(releaseText, source)).fingerprint).toBe(trusted.fingerprint);
    source.keyFile = files["untrusted.asc"];
    expect((await signRelease(releaseText, source)).fingerprint).toBe(keys.untrusted.fingerprint);
  });

  it("unlocks a protected key with the passphrase given, or asks for it once", async ({ expect }) => {
    const locked = await lockedKey(trusted.secret, "correct horse");
    const given = await signRelease(releaseText, { keyText: locked, passphrase: "correct horse" });
    expect(checkWithGpgv(given).inrelease.status).toBe(0);
    const asked: unknown[] = [];
    const prompted = await signRelease(releaseText, {
      keyText: locked,
      promptPassphrase: async (key) => {
        asked.push(key);
        return "correct horse";
      },
    });
    expect(asked).toEqual([
      {
        fingerprint: trusted.fingerprint,
        userId: "Armor Test Signing Key (TEST ONLY, DO NOT TRUST) <trusted@armor.test>",
      },
    ]);
    expect(await serverVerdict(prompted)).toEqual({ ok: true, fingerprint: trusted.fingerprint });
  });

  it("gets a signer ready before the Release, asking for the passphrase at the first one and only then", async ({
    expect,
  }) => {
    const locked = await lockedKey(trusted.secret, "correct horse");
    let asked = 0;
    const signer = await prepareSigner({
      keyText: locked,
      promptPassphrase: async () => {
        asked++;
        return "correct horse";
      },
    });
    // Ready (key read and chosen) with nothing asked: `armor publish` prepares it during generate.
    expect(asked).toBe(0);
    const first = await signer.sign(releaseText);
    const second = await signer.sign(releaseText);
    expect(asked).toBe(1);
    expect(await serverVerdict(first)).toEqual({ ok: true, fingerprint: trusted.fingerprint });
    expect(checkWithGpgv(second).inrelease.status).toBe(0);
    // A key mistake is found while preparing, a Release's own when signing it.
    expect(await refusal(prepareSigner({ keyText: locked, passphrase: "battery staple" }))).toMatchObject({
      code: "bad_passphrase",
    });
    expect(await refusal(signer.sign(releaseText.replace("\nSuite:", "\n\nSuite:")))).toMatchObject({
      code: "malformed_release",
    });
  });

  it("never asks for the passphrase of a key that has none", async ({ expect }) => {
    const prompt = async () => {
      throw new Error("asked");
    };
    await expect(
      signRelease(releaseText, { keyText: trusted.secret, promptPassphrase: prompt }),
    ).resolves.toMatchObject({
      fingerprint: trusted.fingerprint,
    });
  });

  it("refuses a wrong passphrase, typed or given", async ({ expect }) => {
    const locked = await lockedKey(trusted.secret, "correct horse");
    const expected = {
      code: "bad_passphrase",
      message: `Wrong passphrase for key ${trusted.fingerprint}.`,
      hint: "check ARMOR_SIGNING_PASSPHRASE (or what you typed): it is the passphrase the key had when it was exported",
    };
    expect(await refusal(signRelease(releaseText, { keyText: locked, passphrase: "battery staple" }))).toEqual(
      expected,
    );
    expect(
      await refusal(signRelease(releaseText, { keyText: locked, promptPassphrase: async () => "battery staple" })),
    ).toEqual(expected);
  });

  it("refuses a protected key without a passphrase or a terminal to ask on", async ({ expect }) => {
    const locked = await lockedKey(trusted.secret, "correct horse");
    expect(await refusal(signRelease(releaseText, { keyText: locked }))).toEqual({
      code: "passphrase_required",
      message: `Key ${trusted.fingerprint} is protected by a passphrase and none was given.`,
      hint: "set ARMOR_SIGNING_PASSPHRASE, or run on a terminal to be asked for it",
    });
  });

  it("refuses a key file that does not exist", async ({ expect }) => {
    const missing = join(temp("missing"), "nope.asc");
    expect(await refusal(signRelease(releaseText, { keyFile: missing }))).toEqual({
      code: "key_file_unreadable",
      message: `Cannot read the key file ${missing} (no such file).`,
      hint: expect.stringContaining("gpg --armor --export-secret-keys <fingerprint>"),
    });
  });

  it("refuses a public key where a secret key is needed", async ({ expect }) => {
    const keyFile = fixtureKeyFile("trusted.pub.asc");
    expect(await refusal(signRelease(releaseText, { keyFile }))).toEqual({
      code: "public_key",
      message: `${keyFile} holds the public key ${trusted.fingerprint}, not its secret key.`,
      hint: "export the secret key with `gpg --armor --export-secret-keys <fingerprint> > signing-key.asc` (and keep it secret), or sign with --gpg",
    });
  });

  it("refuses text that is not a key", async ({ expect }) => {
    expect(await refusal(signRelease(releaseText, { keyText: inject("gpgSigned").trusted.releaseGpg }))).toMatchObject({
      code: "invalid_key",
      message: expect.stringMatching(/^ARMOR_SIGNING_KEY does not hold an OpenPGP key \(.+\)\.$/),
    });
  });

  it("refuses a key ID that matches no key, and lists the keys there are", async ({ expect }) => {
    expect(
      await refusal(signRelease(releaseText, { keyText: trusted.secret, key: keys.untrusted.fingerprint })),
    ).toEqual({
      code: "key_not_found",
      message: `ARMOR_SIGNING_KEY holds no secret key matching "${keys.untrusted.fingerprint}".`,
      hint: `it holds ${trusted.fingerprint} (Armor Test Signing Key (TEST ONLY, DO NOT TRUST) <trusted@armor.test>); pass one of these fingerprints with --key`,
    });
  });

  it("refuses to guess between several keys", async ({ expect }) => {
    const dir = temp("several");
    writeFiles(dir, { "1.asc": trusted.secret, "2.asc": keys.untrusted.secret });
    const both = `${trusted.fingerprint} (Armor Test Signing Key (TEST ONLY, DO NOT TRUST) <trusted@armor.test>), ${keys.untrusted.fingerprint} (Armor Untrusted Key (TEST ONLY) <untrusted@armor.test>)`;
    expect(await refusal(signRelease(releaseText, { keyringDir: dir }))).toEqual({
      code: "ambiguous_key",
      message: `${dir} holds 2 secret keys: ${both}.`,
      hint: "choose one with --key=<fingerprint>",
    });
    // "untrusted@armor.test" contains "trusted@armor.test": a user-ID substring, as with gpg -u.
    expect(await refusal(signRelease(releaseText, { keyringDir: dir, key: "trusted@armor.test" }))).toEqual({
      code: "ambiguous_key",
      message: `${dir} holds 2 secret keys matching "trusted@armor.test": ${both}.`,
      hint: "choose one with --key=<fingerprint>",
    });
  });

  it("refuses when no key is given anywhere", async ({ expect }) => {
    const emptyDir = temp("empty");
    for (const source of [{}, { keyringDir: emptyDir }, { keyringDir: join(emptyDir, "absent") }]) {
      expect(await refusal(signRelease(releaseText, source))).toMatchObject({
        code: "no_signing_key",
        message: "No signing key: give one with --key-file or ARMOR_SIGNING_KEY, or sign with --gpg.",
      });
    }
  });

  it("refuses an expired key before signing", async ({ expect }) => {
    const expired = await freshKey({ name: "expired-signer", expiredDaysAgo: 3 });
    const fingerprint = (await readPrivateKey({ armoredKey: expired.secret })).getFingerprint().toUpperCase();
    expect(await refusal(signRelease(releaseText, { keyText: expired.secret }))).toEqual({
      code: "key_unusable",
      message: expect.stringMatching(new RegExp(`^Key ${fingerprint} expired on \\d{4}-\\d\\d-\\d\\dT`)),
      hint: expect.stringContaining(`gpg --quick-set-expire ${fingerprint} 2y`),
    });
  });
});

describe("signRelease with gpg", () => {
  it("signs so that gpgv and the server accept both files, the Release byte for byte", async ({ expect }) => {
    const gpgHomeDir = home([trusted.secret]);
    const signed = await signRelease(releaseText, { gpg: true, key: trusted.fingerprint, gpgHome: gpgHomeDir });
    expect(signed.fingerprint).toBe(trusted.fingerprint);
    expect(checkWithGpgv(signed)).toEqual({
      inrelease: { status: 0, signers: [trusted.fingerprint], text: releaseText },
      detached: { status: 0, signers: [trusted.fingerprint] },
    });
    expect(await serverVerdict(signed)).toEqual({ ok: true, fingerprint: trusted.fingerprint });
  });

  it("resolves a user ID to the primary fingerprint, and uses gpg's default key when none is named", async ({
    expect,
  }) => {
    const gpgHomeDir = home([trusted.secret]);
    for (const key of ["<trusted@armor.test>", undefined]) {
      const signed = await signRelease(releaseText, { gpg: true, gpgHome: gpgHomeDir, ...(key ? { key } : {}) });
      expect(signed.fingerprint).toBe(trusted.fingerprint);
      expect(await serverVerdict(signed)).toEqual({ ok: true, fingerprint: trusted.fingerprint });
    }
  });

  it("refuses a key gpg does not have, and a name that matches several", async ({ expect }) => {
    const gpgHomeDir = home([trusted.secret, keys.untrusted.secret]);
    expect(
      await refusal(signRelease(releaseText, { gpg: true, gpgHome: gpgHomeDir, key: "nobody@armor.test" })),
    ).toEqual({
      code: "key_not_found",
      message: 'gpg has no secret key matching "nobody@armor.test".',
      hint: "list them with `gpg --list-secret-keys`; import one with `gpg --import`",
    });
    expect(await refusal(signRelease(releaseText, { gpg: true, gpgHome: gpgHomeDir, key: "armor.test" }))).toEqual({
      code: "ambiguous_key",
      message: `"armor.test" matches 2 secret keys in gpg: ${trusted.fingerprint} (Armor Test Signing Key (TEST ONLY, DO NOT TRUST) <trusted@armor.test>), ${keys.untrusted.fingerprint} (Armor Untrusted Key (TEST ONLY) <untrusted@armor.test>).`,
      hint: "choose one with --key=<fingerprint>",
    });
  });

  it("unlocks a protected key with the passphrase given", async ({ expect }) => {
    const gpgHomeDir = home([await lockedKey(trusted.secret, "correct horse")]);
    const options = { gpg: true, gpgHome: gpgHomeDir, key: trusted.fingerprint, passphrase: "correct horse" };
    expect(await serverVerdict(await signRelease(releaseText, options))).toEqual({
      ok: true,
      fingerprint: trusted.fingerprint,
    });
  });

  it("refuses a wrong passphrase", async ({ expect }) => {
    const gpgHomeDir = home([await lockedKey(trusted.secret, "correct horse")]);
    const options = { gpg: true, gpgHome: gpgHomeDir, key: trusted.fingerprint, passphrase: "battery staple" };
    expect(await refusal(signRelease(releaseText, options))).toEqual({
      code: "bad_passphrase",
      message: `Wrong passphrase for ${trusted.fingerprint} (gpg).`,
      hint: "check ARMOR_SIGNING_PASSPHRASE (or what you typed)",
    });
  });

  it("says so when gpg-agent cannot ask for the passphrase", async ({ expect }) => {
    const gpgHomeDir = home([await lockedKey(trusted.secret, "correct horse")]);
    expect(
      await refusal(signRelease(releaseText, { gpg: true, gpgHome: gpgHomeDir, key: trusted.fingerprint })),
    ).toEqual({
      code: "passphrase_required",
      message: expect.stringMatching(
        new RegExp(`^gpg could not get the passphrase for ${trusted.fingerprint} \\(.+\\)\\.$`),
      ),
      hint: "set ARMOR_SIGNING_PASSPHRASE, or on a terminal `export GPG_TTY=$(tty)` so gpg-agent can ask for it",
    });
  });

  it("says gpg is not installed when it is not on the PATH", async ({ expect }) => {
    const path = process.env.PATH;
    process.env.PATH = temp("no-gpg");
    onTestFinished(() => {
      process.env.PATH = path;
    });
    expect(await refusal(signRelease(releaseText, { gpg: true, key: trusted.fingerprint }))).toEqual({
      code: "gpg_missing",
      message: "gpg is not installed.",
      hint: "install GnuPG (`apt-get install gnupg`), or sign with openpgp.js: leave out --gpg and use --key-file",
    });
  });
});
