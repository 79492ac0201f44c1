import {
  createCleartextMessage,
  createMessage,
  generateKey,
  type PrivateKey,
  readCleartextMessage,
  readKeys,
  readPrivateKey,
  sign,
} from "openpgp";
import { describe, inject, it } from "vitest";
import { buildKeyring, inspectPublicKey } from "../../pgp/keys.ts";
import { verifyReleaseSignatures } from "../../pgp/release-signatures.ts";

const keys = inject("keys");
const gpg = inject("gpgSigned");
const { releaseText } = gpg;
const trusted = { fingerprint: keys.trusted.fingerprint, trustedKeys: [keys.trusted.public] };

/** openpgp.js signs every line ending it is given; the Release's last "\n" belongs to the framework. */
async function clearsign(signingKeys: PrivateKey | PrivateKey[], text: string, date?: Date): Promise<string> {
  const message = await createCleartextMessage({ text: text.replace(/\n$/, "") });
  return sign({ message, signingKeys, date });
}

async function detachSign(signingKeys: PrivateKey, text: string, mode: "binary" | "text" = "binary"): Promise<string> {
  const message =
    mode === "binary" ? await createMessage({ binary: new TextEncoder().encode(text) }) : await createMessage({ text });
  return sign({ message, signingKeys, detached: true });
}

/** Flip one base64 character in the middle of the (first) signature armor. */
function garble(armored: string): string {
  const start = armored.indexOf("\n\n", armored.indexOf("-----BEGIN PGP SIGNATURE-----")) + 2 + 20;
  const c = armored[start] === "A" ? "B" : "A";
  return armored.slice(0, start) + c + armored.slice(start + 1);
}

const trustedSecret = () => readPrivateKey({ armoredKey: keys.trusted.secret });
const untrustedSecret = () => readPrivateKey({ armoredKey: keys.untrusted.secret });

describe("inspectPublicKey", () => {
  it("describes the trusted test key as gpg does", async ({ expect }) => {
    const result = await inspectPublicKey(keys.trusted.public);
    expect(result).toEqual({
      ok: true,
      value: {
        fingerprint: keys.trusted.fingerprint,
        userIds: ["Armor Test Signing Key (TEST ONLY, DO NOT TRUST) <trusted@armor.test>"],
        algorithm: "ed25519",
        createdAt: "2026-11-22T01:40:50.000Z",
        expiresAt: null,
        armored: expect.stringMatching(/^-----BEGIN PGP PUBLIC KEY BLOCK-----\n/),
      },
    });
    if (!result.ok) return;
    const reread = await readKeys({ armoredKeys: result.value.armored });
    expect(reread.map((k) => [k.getFingerprint().toUpperCase(), k.isPrivate()])).toEqual([
      [keys.trusted.fingerprint, false],
    ]);
  });

  it.for([
    ["an empty string", "", "invalid_key"],
    ["text that is not armor", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI user@host", "invalid_key"],
    ["a detached signature", gpg.trusted.releaseGpg, "invalid_key"],
    ["two keys in two armor blocks", `${keys.trusted.public}\n${keys.untrusted.public}`, "invalid_key"],
    ["a secret key", keys.trusted.secret, "secret_key"],
    ["a key that expired on 2025-01-02", keys.expired.public, "key_expired"],
    ["a revoked key", keys.revoked.public, "key_revoked"],
    ["a certify-only key made by gpg", gpg.certifyOnlyKey, "key_cannot_sign"],
  ] as const)("refuses %s", async ([, armored, code], { expect }) => {
    const result = await inspectPublicKey(armored);
    expect(result).toEqual({ ok: false, error: { code, message: expect.any(String) } });
  });

  it("refuses one armor block holding two keys", async ({ expect }) => {
    const { armored } = await buildKeyring([keys.trusted.public, keys.untrusted.public]);
    const result = await inspectPublicKey(armored);
    expect(result.ok ? null : result.error).toEqual({
      code: "invalid_key",
      message: expect.stringContaining("2 keys"),
    });
  });

  it("tells the owner of a secret key to export only the public half", async ({ expect }) => {
    const result = await inspectPublicKey(keys.trusted.secret);
    expect(result.ok ? null : result.error.message).toContain(`gpg --armor --export ${keys.trusted.fingerprint}`);
  });

  it("judges expiry at the given time", async ({ expect }) => {
    const result = await inspectPublicKey(keys.expired.public, new Date("2025-01-01T12:00:00Z"));
    expect(result.ok && result.value).toMatchObject({
      fingerprint: keys.expired.fingerprint,
      expiresAt: "2025-01-02T00:00:00.000Z",
    });
  });

  it("refuses an RSA key too weak to sign with, as apt does", async ({ expect }) => {
    const { publicKey } = await generateKey({
      type: "rsa",
      rsaBits: 1024,
      userIDs: [{ name: "Weak RSA (TEST ONLY)" }],
      config: { minRSABits: 1024 },
    });
    const result = await inspectPublicKey(publicKey);
    expect(result.ok ? null : result.error).toEqual({
      code: "key_cannot_sign",
      message: expect.stringMatching(/weak/),
    });
  });
});

describe("verifyReleaseSignatures", () => {
  it("accepts gpg --clearsign and gpg --armor --detach-sign by the trusted key", async ({ expect }) => {
    const result = await verifyReleaseSignatures({ releaseText, ...gpg.trusted, ...trusted });
    expect(result).toEqual({
      ok: true,
      value: { fingerprint: keys.trusted.fingerprint, ...gpg.trusted },
    });
  });

  it("accepts a clearsigned message and a binary detached signature made by openpgp.js", async ({ expect }) => {
    const key = await trustedSecret();
    const inrelease = await clearsign(key, releaseText);
    const releaseGpg = await detachSign(key, releaseText);
    const result = await verifyReleaseSignatures({ releaseText, inrelease, releaseGpg, ...trusted });
    expect(result.ok && result.value.fingerprint).toBe(keys.trusted.fingerprint);
  });

  it("accepts a text-mode detached signature", async ({ expect }) => {
    const releaseGpg = await detachSign(await trustedSecret(), releaseText, "text");
    const result = await verifyReleaseSignatures({
      releaseText,
      inrelease: gpg.trusted.inrelease,
      releaseGpg,
      ...trusted,
    });
    expect(result.ok).toBe(true);
  });

  it("accepts the fingerprint as gpg prints it, in lowercase with spaces", async ({ expect }) => {
    const spaced = keys.trusted.fingerprint.toLowerCase().replace(/(.{4})/g, "$1 ");
    const result = await verifyReleaseSignatures({ ...trusted, releaseText, ...gpg.trusted, fingerprint: spaced });
    expect(result.ok && result.value.fingerprint).toBe(keys.trusted.fingerprint);
  });

  it("drops whitespace and carriage returns around and in the armor, returning what apt accepts", async ({
    expect,
  }) => {
    const result = await verifyReleaseSignatures({
      releaseText,
      inrelease: `\n  \n${gpg.trusted.inrelease.replaceAll("\n", "\r\n")}\n\t\n`,
      releaseGpg: `\n${gpg.trusted.releaseGpg}  \n\n`,
      ...trusted,
    });
    expect(result).toEqual({ ok: true, value: { fingerprint: keys.trusted.fingerprint, ...gpg.trusted } });
  });

  it("accepts a signing subkey, declared by the primary or the subkey fingerprint", async ({ expect }) => {
    const { privateKey, publicKey } = await generateKey({
      type: "ecc",
      curve: "ed25519Legacy",
      userIDs: [{ name: "Subkey Signer (TEST ONLY)" }],
      subkeys: [{ sign: true }],
      format: "object",
    });
    const subkey = privateKey.subkeys[0];
    if (subkey === undefined) throw new Error("generateKey made no subkey");
    const inrelease = await clearsign(privateKey, releaseText);
    const signedBy = (await readCleartextMessage({ cleartextMessage: inrelease })).getSigningKeyIDs();
    expect(signedBy.map((id) => id.toHex())).toEqual([subkey.getKeyID().toHex()]);
    const primary = privateKey.getFingerprint().toUpperCase();
    for (const fingerprint of [primary, subkey.getFingerprint()]) {
      const result = await verifyReleaseSignatures({
        releaseText,
        inrelease,
        releaseGpg: await detachSign(privateKey, releaseText),
        fingerprint,
        trustedKeys: [publicKey.armor()],
      });
      expect(result.ok && result.value.fingerprint).toBe(primary);
    }
  });

  it("tolerates a signer's clock a minute ahead, not an hour", async ({ expect }) => {
    const key = await trustedSecret();
    const now = new Date();
    const at = async (aheadMs: number) => {
      const date = new Date(now.getTime() + aheadMs);
      const releaseGpg = await sign({
        message: await createMessage({ binary: new TextEncoder().encode(releaseText) }),
        signingKeys: key,
        detached: true,
        date,
      });
      return verifyReleaseSignatures(
        { releaseText, inrelease: await clearsign(key, releaseText, date), releaseGpg, ...trusted },
        now,
      );
    };
    expect((await at(60_000)).ok).toBe(true);
    const late = await at(3_600_000);
    expect(late.ok ? null : late.error.code).toBe("bad_signature");
  });

  it.for([
    ["one byte of the server's Release differs", (text: string) => text.replace("Suite: stable", "Suite: stabl3")],
    ["the server's Release has one more final newline", (text: string) => `${text}\n`],
  ] as const)("refuses signatures over another text: %s", async ([, change], { expect }) => {
    const result = await verifyReleaseSignatures({ ...trusted, ...gpg.trusted, releaseText: change(releaseText) });
    expect(result.ok ? null : result.error).toEqual({
      code: "release_mismatch",
      message: expect.stringMatching(/line \d+/),
    });
  });

  it("refuses an InRelease whose signed text has a trailing space the signature does not cover", async ({ expect }) => {
    const inrelease = gpg.trusted.inrelease.replace("Suite: stable\n", "Suite: stable \n");
    const result = await verifyReleaseSignatures({ releaseText, ...trusted, ...gpg.trusted, inrelease });
    expect(result.ok ? null : result.error.code).toBe("release_mismatch");
  });

  it("refuses openpgp.js's clearsign of the text with its final newline: apt would see one more line", async ({
    expect,
  }) => {
    const key = await trustedSecret();
    const inrelease = await sign({ message: await createCleartextMessage({ text: releaseText }), signingKeys: key });
    const result = await verifyReleaseSignatures({ releaseText, ...trusted, ...gpg.trusted, inrelease });
    expect(result.ok ? null : result.error.code).toBe("release_mismatch");
  });

  it.for([
    ["junk after the InRelease signature", { inrelease: `${gpg.trusted.inrelease}Origin: Evil\n` }],
    ["junk before the InRelease message", { inrelease: `Origin: Evil\n${gpg.trusted.inrelease}` }],
    ["two clearsigned messages in InRelease", { inrelease: gpg.trusted.inrelease + gpg.trusted.inrelease }],
    ["junk after Release.gpg", { releaseGpg: `${gpg.trusted.releaseGpg}junk\n` }],
    ["the two files swapped", { inrelease: gpg.trusted.releaseGpg, releaseGpg: gpg.trusted.inrelease }],
    ["a garbled InRelease signature", { inrelease: garble(gpg.trusted.inrelease) }],
    ["a garbled Release.gpg", { releaseGpg: garble(gpg.trusted.releaseGpg) }],
    ["an empty Release.gpg", { releaseGpg: "" }],
    [
      "an undashed line starting with - in the signed text",
      { inrelease: gpg.trusted.inrelease.replace("\n\nOrigin:", "\n\n-X: y\nOrigin:") },
    ],
  ] as const)("refuses %s as bad_signature", async ([, change], { expect }) => {
    const result = await verifyReleaseSignatures({ releaseText, ...trusted, ...gpg.trusted, ...change });
    expect(result.ok ? null : result.error).toEqual({ code: "bad_signature", message: expect.any(String) });
  });

  it("refuses a Release.gpg over different bytes", async ({ expect }) => {
    const releaseGpg = await detachSign(await trustedSecret(), releaseText.replace("amd64", "arm64"));
    const result = await verifyReleaseSignatures({ releaseText, ...trusted, ...gpg.trusted, releaseGpg });
    expect(result.ok ? null : result.error).toEqual({
      code: "bad_signature",
      message: expect.stringContaining("Release.gpg"),
    });
  });

  it("refuses signatures by the untrusted key, declared as its own", async ({ expect }) => {
    const result = await verifyReleaseSignatures({
      releaseText,
      ...gpg.untrusted,
      fingerprint: keys.untrusted.fingerprint,
      trustedKeys: [keys.trusted.public],
    });
    expect(result.ok ? null : result.error).toEqual({
      code: "untrusted_key",
      message: expect.stringContaining("armor key add"),
    });
  });

  it("refuses signatures by the untrusted key declared as the trusted one, naming the real signer", async ({
    expect,
  }) => {
    const result = await verifyReleaseSignatures({ releaseText, ...gpg.untrusted, ...trusted });
    expect(result.ok ? null : result.error).toEqual({
      code: "untrusted_key",
      message: expect.stringContaining(keys.untrusted.fingerprint),
    });
  });

  it("refuses a Release.gpg by the untrusted key beside a good InRelease", async ({ expect }) => {
    const result = await verifyReleaseSignatures({
      releaseText,
      ...trusted,
      inrelease: gpg.trusted.inrelease,
      releaseGpg: gpg.untrusted.releaseGpg,
    });
    expect(result.ok ? null : result.error.code).toBe("untrusted_key");
  });

  it.for([
    ["a fingerprint no trusted key has", "0123456789ABCDEF0123456789ABCDEF01234567", [keys.trusted.public]],
    ["a 64-bit key ID", keys.trusted.fingerprint.slice(-16), [keys.trusted.public]],
    ["any key when the repository trusts none", keys.trusted.fingerprint, []],
  ] as const)("refuses %s as untrusted_key", async ([, fingerprint, trustedKeys], { expect }) => {
    const result = await verifyReleaseSignatures({ releaseText, ...gpg.trusted, fingerprint, trustedKeys });
    expect(result.ok ? null : result.error.code).toBe("untrusted_key");
  });

  it("refuses signatures by another trusted key than the declared one", async ({ expect }) => {
    const result = await verifyReleaseSignatures({
      releaseText,
      ...gpg.untrusted,
      fingerprint: keys.trusted.fingerprint,
      trustedKeys: [keys.trusted.public, keys.untrusted.public],
    });
    expect(result.ok ? null : result.error).toEqual({
      code: "bad_signature",
      message: expect.stringContaining(`not by the declared key ${keys.trusted.fingerprint}`),
    });
  });

  it("accepts a second signature by another trusted key (key rotation), not by an untrusted one", async ({
    expect,
  }) => {
    const inrelease = await clearsign([await trustedSecret(), await untrustedSecret()], releaseText);
    const input = { releaseText, inrelease, releaseGpg: gpg.trusted.releaseGpg, fingerprint: keys.trusted.fingerprint };
    const rotating = await verifyReleaseSignatures({
      ...input,
      trustedKeys: [keys.trusted.public, keys.untrusted.public],
    });
    expect(rotating.ok).toBe(true);
    const stranger = await verifyReleaseSignatures({ ...input, trustedKeys: [keys.trusted.public] });
    expect(stranger.ok ? null : stranger.error.code).toBe("untrusted_key");
  });

  it.for([
    ["expired", keys.expired],
    ["revoked", keys.revoked],
  ] as const)("refuses a trusted key that is %s", async ([state, key], { expect }) => {
    const result = await verifyReleaseSignatures({
      releaseText,
      ...gpg.trusted,
      fingerprint: key.fingerprint,
      trustedKeys: [key.public],
    });
    expect(result.ok ? null : result.error).toEqual({ code: "bad_signature", message: expect.stringContaining(state) });
  });

  it("refuses signatures made while the key was valid once it has expired", async ({ expect }) => {
    const made = new Date();
    const { privateKey, publicKey } = await generateKey({
      type: "ecc",
      curve: "ed25519Legacy",
      userIDs: [{ name: "Short-Lived (TEST ONLY)" }],
      keyExpirationTime: 3600,
      date: made,
      format: "object",
    });
    const input = {
      releaseText,
      inrelease: await clearsign(privateKey, releaseText, made),
      releaseGpg: await detachSign(privateKey, releaseText),
      fingerprint: privateKey.getFingerprint(),
      trustedKeys: [publicKey.armor()],
    };
    expect((await verifyReleaseSignatures(input, made)).ok).toBe(true);
    const later = await verifyReleaseSignatures(input, new Date(made.getTime() + 2 * 3_600_000));
    expect(later.ok ? null : later.error).toEqual({
      code: "bad_signature",
      message: expect.stringContaining("expired"),
    });
  });

  it("takes a few milliseconds with an ed25519 key", async ({ expect }) => {
    const runs = 20;
    const input = { releaseText, ...gpg.trusted, ...trusted };
    await verifyReleaseSignatures(input); // warm up
    const started = performance.now();
    for (let i = 0; i < runs; i++) expect((await verifyReleaseSignatures(input)).ok).toBe(true);
    // workerd advances its clocks only on I/O; a timer is one.
    await new Promise((resolve) => setTimeout(resolve, 1));
    const perCall = (performance.now() - started - 1) / runs;
    console.log(`verifyReleaseSignatures: ${perCall.toFixed(2)} ms per call (ed25519, workerd)`);
    expect(perCall).toBeLessThan(250);
  });
});

describe("buildKeyring", () => {
  it("holds every key once, public halves only, armored and binary", async ({ expect }) => {
    const keyring = await buildKeyring([keys.trusted.public, keys.untrusted.secret, keys.trusted.public]);
    expect(keyring.armored).toMatch(
      /^-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n[\s\S]*\n=[\w+/]{4}\n-----END PGP PUBLIC KEY BLOCK-----\n$/,
    );
    for (const parsed of [
      await readKeys({ armoredKeys: keyring.armored }),
      await readKeys({ binaryKeys: keyring.binary }),
    ]) {
      expect(parsed.map((k) => [k.getFingerprint().toUpperCase(), k.isPrivate()])).toEqual([
        [keys.trusted.fingerprint, false],
        [keys.untrusted.fingerprint, false],
      ]);
    }
    // apt takes a .gpg keyring only if it starts with a public key packet (old format 0x98/0x99 or new 0xc6).
    expect([0x98, 0x99, 0xc6]).toContain(keyring.binary[0]);
  });

  it("is empty for no keys", async ({ expect }) => {
    const keyring = await buildKeyring([]);
    expect(keyring.binary.length).toBe(0);
  });

  it("throws, as for a bug, on a key that does not parse", async ({ expect }) => {
    await expect(buildKeyring(["not a key"])).rejects.toThrow(/does not parse/);
  });
});
