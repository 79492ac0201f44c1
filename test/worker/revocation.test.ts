/**
 * DESIGN.md §4b: a key whose revocation the server has seen signs nothing more. The revocation
 * arrives the way an admin would send it (`armor key add` of the revoked key, or of its
 * revocation certificate), and the key is then refused for every new signature, for good.
 */
import * as openpgp from "openpgp";
import { describe, inject, it } from "vitest";
import {
  apt,
  call,
  createRepo,
  generate,
  json,
  makeDeb,
  publish,
  push,
  sign,
  submit,
  uniqueRepo,
} from "../helpers/armor.ts";

const keysOf = (repo: string) => `/api/v1/repositories/${repo}/keys`;

interface KeySummary {
  fingerprint: string;
  status: string;
  revoked_at: string | null;
  revocation_reason: string | null;
}

/** A signing key made for one test (TEST ONLY): ed25519, with its revocation certificate. */
async function testKey(name: string) {
  const made = await openpgp.generateKey({
    type: "ecc",
    curve: "ed25519Legacy",
    userIDs: [{ name: `${name} (TEST ONLY, DO NOT TRUST)`, email: "revocation@armor.test" }],
  });
  const privateKey = await openpgp.readPrivateKey({ armoredKey: made.privateKey });
  const fingerprint = privateKey.getFingerprint().toUpperCase();
  return { ...made, privateKey, signing: { secret: made.privateKey, fingerprint }, fingerprint };
}

async function postKey(repo: string, key: string): Promise<Response> {
  return call(keysOf(repo), { method: "POST", body: JSON.stringify({ key }) });
}

async function packagesOf(repo: string): Promise<string> {
  return (await apt(repo, "dists/stable/main/binary-amd64/Packages")).text();
}

async function activations(repo: string): Promise<string[]> {
  const log = await json<{ activations: { release: string }[] }>(
    await call(`/api/v1/repositories/${repo}/activations`),
  );
  return log.activations.map((a) => a.release);
}

describe("revoked keys", () => {
  it("stop signing once the revoked key is sent, for good, and the keyring carries the revocation", async ({
    expect,
  }) => {
    const repo = uniqueRepo("revoke");
    await createRepo(repo, { trustKey: false });
    const key = await testKey("Revoked Later");
    expect((await postKey(repo, key.publicKey)).status).toBe(201);
    await push(repo, "stable", "main", [makeDeb("hello", "1.0", "amd64")]);
    const first = await generate(repo, "stable");
    expect((await submit(repo, "stable", await sign(first.document, key.signing))).status).toBe(200);

    // A signature made before the revocation, submitted after it.
    await push(repo, "stable", "main", [makeDeb("hello", "2.0", "amd64")]);
    const { document } = await generate(repo, "stable");
    const signed = await sign(document, key.signing);
    const { publicKey: revoked } = await openpgp.revokeKey({
      key: key.privateKey,
      reasonForRevocation: { flag: openpgp.enums.reasonForRevocation.keyCompromised, string: "laptop stolen" },
    });

    const revocation = await postKey(repo, revoked);
    expect(revocation.status).toBe(200);
    expect(await json(revocation)).toMatchObject({
      fingerprint: key.fingerprint,
      status: "revoked",
      revoked_at: expect.any(String),
      revocation_reason: "compromised: laptop stolen",
    });

    const refused = await submit(repo, "stable", signed);
    expect(refused.status).toBe(422);
    expect(await json(refused)).toMatchObject({
      error: { code: "untrusted_key", message: expect.stringContaining(`Key ${key.fingerprint} is revoked`) },
    });
    expect(await activations(repo)).toEqual(["r1"]);
    expect(await packagesOf(repo)).not.toContain("Version: 2.0");

    // The unrevoked export cannot bring it back, nor can the key be deleted to forget the revocation.
    const again = await postKey(repo, key.publicKey);
    expect(again.status).toBe(400);
    expect(await json(again)).toMatchObject({ error: { code: "key_revoked" } });
    const deleted = await call(`${keysOf(repo)}/${key.fingerprint}`, { method: "DELETE" });
    expect(deleted.status).toBe(400);
    expect(await json(deleted)).toMatchObject({ error: { code: "key_revoked" } });
    expect((await submit(repo, "stable", signed)).status).toBe(422);
    const listed = await json<{ keys: KeySummary[] }>(await call(keysOf(repo)));
    expect(listed.keys).toEqual([expect.objectContaining({ fingerprint: key.fingerprint, status: "revoked" })]);
    // Sending the revocation again is answered the same way, and changes nothing.
    const repeated = await postKey(repo, revoked);
    expect(repeated.status).toBe(200);
    expect(await json(repeated)).toEqual((await json<{ keys: KeySummary[] }>(await call(keysOf(repo)))).keys[0]);

    // apt clients learn of it from the keyring they download.
    for (const [file, read] of [
      ["archive-keyring.asc", async (res: Response) => openpgp.readKeys({ armoredKeys: await res.text() })],
      [
        "archive-keyring.gpg",
        async (res: Response) => openpgp.readKeys({ binaryKeys: new Uint8Array(await res.arrayBuffer()) }),
      ],
    ] as const) {
      const ring = await read(await apt(repo, file));
      expect(ring.map((k) => k.getFingerprint().toUpperCase())).toEqual([key.fingerprint]);
      expect(await ring[0]?.isRevoked()).toBe(true);
    }

    // Another trusted key publishes the same release.
    expect((await postKey(repo, inject("keys").trusted.public)).status).toBe(201);
    expect((await submit(repo, "stable", await sign(document))).status).toBe(200);
    expect(await activations(repo)).toEqual(["r2", "r1"]);
  });

  it("stop signing once a revocation certificate for a held key is sent", async ({ expect }) => {
    const repo = uniqueRepo("revcert");
    await createRepo(repo, { trustKey: false });
    const key = await testKey("Revoked By Certificate");
    const stranger = await testKey("Never Added");
    expect((await postKey(repo, key.publicKey)).status).toBe(201);
    await push(repo, "stable", "main", [makeDeb("hello", "1.0", "amd64")]);
    const { document } = await generate(repo, "stable");
    const signed = await sign(document, key.signing);

    // A certificate for a key the repository never held cannot be checked: refused, nothing stored.
    const unknown = await postKey(repo, stranger.revocationCertificate);
    expect(unknown.status).toBe(400);
    expect(await json(unknown)).toMatchObject({
      error: { code: "invalid_key", message: expect.stringContaining(stranger.fingerprint) },
    });
    // gpg's own copy keeps a colon before the armor, against accidents: said so, nothing stored.
    const guarded = await postKey(repo, key.revocationCertificate.replace(/^-----BEGIN/m, ":-----BEGIN"));
    expect(await json(guarded)).toMatchObject({
      error: { code: "invalid_key", message: expect.stringContaining("colon") },
    });
    expect(await json(await call(keysOf(repo)))).toEqual({
      keys: [expect.objectContaining({ fingerprint: key.fingerprint, status: "trusted" })],
    });

    const revocation = await postKey(repo, key.revocationCertificate);
    expect(revocation.status).toBe(200);
    expect(await json(revocation)).toMatchObject({ fingerprint: key.fingerprint, status: "revoked" });
    const refused = await submit(repo, "stable", signed);
    expect(refused.status).toBe(422);
    expect(await json(refused)).toMatchObject({ error: { code: "untrusted_key" } });
    expect(await activations(repo)).toEqual([]);
    const ring = await openpgp.readKeys({ armoredKeys: await (await apt(repo, "archive-keyring.asc")).text() });
    expect(await ring[0]?.isRevoked()).toBe(true);
  });

  it("count a dist signed before the revocation as unsigned: the release waits for a new signature", async ({
    expect,
  }) => {
    const repo = uniqueRepo("revstaged");
    await createRepo(repo);
    const key = await testKey("Signed One Dist");
    expect((await postKey(repo, key.publicKey)).status).toBe(201);
    await push(repo, "stable", "main", [makeDeb("hello", "1.0", "amd64")]);
    await push(repo, "testing", "main", [makeDeb("tool", "1.0", "amd64")]);
    const stable = await generate(repo, "stable");
    const staged = await submit(repo, "stable", await sign(stable.document, key.signing));
    expect(await json(staged)).toMatchObject({ activated: false, unsigned_dists: ["testing"] });

    const { publicKey: revoked } = await openpgp.revokeKey({ key: key.privateKey });
    expect((await postKey(repo, revoked)).status).toBe(200);
    const testing = await generate(repo, "testing");
    const other = await submit(repo, "testing", await sign(testing.document));
    expect(await json(other)).toMatchObject({ activated: false, unsigned_dists: ["stable"] });
    const activate = await call(`/api/v1/repositories/${repo}/releases/r1/activate`, { method: "POST" });
    expect(activate.status).toBe(409);
    expect(await json(activate)).toMatchObject({
      error: {
        code: "release_unsigned",
        message: expect.stringContaining(`signed by ${key.fingerprint}, revoked since`),
      },
    });
    expect(await activations(repo)).toEqual([]);

    // Signed again by a trusted key, it activates.
    const resigned = await submit(repo, "stable", await sign((await generate(repo, "stable")).document));
    expect(await json(resigned)).toMatchObject({ activated: true, unsigned_dists: [] });
  });

  it("are recorded as revoked when never trusted, so an older export cannot be trusted later", async ({ expect }) => {
    const repo = uniqueRepo("revnew");
    await createRepo(repo, { trustKey: false });
    const key = await testKey("Revoked Before Added");
    const { publicKey: revoked } = await openpgp.revokeKey({ key: key.privateKey });
    const recorded = await postKey(repo, revoked);
    expect(recorded.status).toBe(200);
    expect(await json(recorded)).toMatchObject({ fingerprint: key.fingerprint, status: "revoked" });
    const older = await postKey(repo, key.publicKey);
    expect(older.status).toBe(400);
    expect(await json(older)).toMatchObject({ error: { code: "key_revoked" } });
    await push(repo, "stable", "main", [makeDeb("hello", "1.0", "amd64")]);
    const refused = await submit(repo, "stable", await sign((await generate(repo, "stable")).document, key.signing));
    expect(refused.status).toBe(422);
    await refused.body?.cancel();
    await expect(publish(repo, ["stable"])).rejects.toThrow(/untrusted_key/);
  });
});
