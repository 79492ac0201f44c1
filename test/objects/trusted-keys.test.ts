/**
 * What a key text handed to a repository does to the keys it holds (pgp/keys.ts):
 * revocations are found however they arrive and never lost to an older export.
 */
import {
  createCleartextMessage,
  createMessage,
  enums,
  generateKey,
  type PrivateKey,
  readKeys,
  revokeKey,
  SecretKeyPacket,
  sign,
} from "openpgp";
import { describe, inject, it } from "vitest";
import { readKeySubmission } from "../../pgp/keys.ts";
import { verifyReleaseSignatures } from "../../pgp/release-signatures.ts";

const keys = inject("keys");
const { releaseText } = inject("gpgSigned");

/** A key made for one test (TEST ONLY): an ed25519 primary and an ed25519 signing subkey. */
async function testKey() {
  const made = await generateKey({
    type: "ecc",
    curve: "ed25519Legacy",
    userIDs: [{ name: "Trusted Keys Test (TEST ONLY, DO NOT TRUST)" }],
    subkeys: [{ sign: true }],
    format: "object",
  });
  return { ...made, fingerprint: made.privateKey.getFingerprint().toUpperCase() };
}

async function signRelease(key: PrivateKey): Promise<{ inrelease: string; releaseGpg: string }> {
  const cleartext = await createCleartextMessage({ text: releaseText.replace(/\n$/, "") });
  const binary = await createMessage({ binary: new TextEncoder().encode(releaseText) });
  return {
    inrelease: await sign({ message: cleartext, signingKeys: key }),
    releaseGpg: await sign({ message: binary, signingKeys: key, detached: true }),
  };
}

describe("readKeySubmission", () => {
  it("trusts a new key, and revokes nothing", async ({ expect }) => {
    const result = await readKeySubmission(keys.trusted.public, []);
    expect(result).toEqual({
      ok: true,
      value: {
        key: expect.objectContaining({ fingerprint: keys.trusted.fingerprint }),
        revocation: null,
        revokes: false,
      },
    });
  });

  it("records a revoked key even when the repository never held it", async ({ expect }) => {
    const result = await readKeySubmission(keys.revoked.public, []);
    expect(result.ok && result.value).toMatchObject({
      key: { fingerprint: keys.revoked.fingerprint },
      revocation: expect.any(Object),
      revokes: true,
    });
  });

  it("keeps a held revocation when an older export arrives", async ({ expect }) => {
    const { privateKey, publicKey } = await testKey();
    const revoked = (await revokeKey({ key: privateKey, format: "object" })).publicKey;
    const held = [{ fingerprint: privateKey.getFingerprint().toUpperCase(), armored: revoked.armor() }];
    const result = await readKeySubmission(publicKey.armor(), held);
    if (!result.ok) throw new Error(result.error.message);
    expect(result.value).toMatchObject({ revocation: { reason: null }, revokes: false });
    const [stored] = await readKeys({ armoredKeys: result.value.key.armored });
    expect(await stored?.isRevoked()).toBe(true);
  });

  it("merges a revoked signing subkey into the held key, and its signatures are refused", async ({ expect }) => {
    const { privateKey, publicKey, fingerprint } = await testKey();
    const held = [{ fingerprint, armored: publicKey.armor() }];
    const signed = await signRelease(privateKey);
    const input = { releaseText, ...signed, fingerprint };
    expect((await verifyReleaseSignatures({ ...input, trustedKeys: [held[0]?.armored ?? ""] })).ok).toBe(true);

    const subkey = privateKey.subkeys[0];
    const primary = privateKey.keyPacket;
    if (subkey === undefined || !(primary instanceof SecretKeyPacket)) throw new Error("not the test key made above");
    const revokedSubkey = await subkey.revoke(primary, { flag: enums.reasonForRevocation.keyRetired });
    privateKey.subkeys[0] = revokedSubkey;
    const result = await readKeySubmission(privateKey.toPublic().armor(), held);
    if (!result.ok) throw new Error(result.error.message);
    // The primary key is not revoked: still trusted, but not its retired subkey.
    expect(result.value).toMatchObject({ revocation: null });
    const refused = await verifyReleaseSignatures({ ...input, trustedKeys: [result.value.key.armored] });
    expect(refused.ok ? null : refused.error.code).toBe("bad_signature");
  });

  it("applies a revocation certificate to the held key it names, and only to it", async ({ expect }) => {
    const { publicKey, revocationCertificate, fingerprint } = await testKey();
    const held = [
      { fingerprint: keys.trusted.fingerprint, armored: keys.trusted.public },
      { fingerprint, armored: publicKey.armor() },
    ];
    const result = await readKeySubmission(revocationCertificate, held);
    if (!result.ok) throw new Error(result.error.message);
    expect(result.value).toMatchObject({ key: { fingerprint }, revocation: { reason: null }, revokes: true });
    const [stored] = await readKeys({ armoredKeys: result.value.key.armored });
    expect(await stored?.isRevoked()).toBe(true);

    const elsewhere = await readKeySubmission(revocationCertificate, held.slice(0, 1));
    expect(elsewhere.ok ? null : elsewhere.error).toEqual({
      code: "invalid_key",
      message: expect.stringContaining(`revocation certificate for key ${fingerprint}`),
    });
  });
});

describe("verifyReleaseSignatures with revoked keys", () => {
  it("names the key as revoked when a revoked key is declared", async ({ expect }) => {
    const { privateKey, fingerprint } = await testKey();
    const revoked = (await revokeKey({ key: privateKey, format: "object" })).publicKey;
    const result = await verifyReleaseSignatures({
      releaseText,
      ...(await signRelease(privateKey)),
      fingerprint,
      trustedKeys: [keys.trusted.public],
      revokedKeys: [revoked.armor()],
    });
    expect(result.ok ? null : result.error).toEqual({
      code: "untrusted_key",
      message: expect.stringContaining(`Key ${fingerprint} is revoked: this repository no longer trusts it`),
    });
  });
});
