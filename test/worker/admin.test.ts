import { env } from "cloudflare:workers";
import * as openpgp from "openpgp";
import { describe, inject, it } from "vitest";
import {
  apt,
  blobKeyOf,
  call,
  createRepo,
  generate,
  json,
  makeDeb,
  publish,
  push,
  uniqueRepo,
} from "../helpers/armor.ts";

const keysOf = (repo: string) => `/api/v1/repositories/${repo}/keys`;
const adminOf = (repo: string, verb: string) => `/admin/v1/repositories/${repo}/${verb}`;

describe("trusted keys", () => {
  it("adds, lists and removes keys, and serves them as the archive keyring", async ({ expect }) => {
    const repo = uniqueRepo("keys");
    await createRepo(repo, { trustKey: false });
    expect((await apt(repo, "archive-keyring.asc")).status).toBe(404);
    const keys = inject("keys");
    const added = await call(keysOf(repo), { method: "POST", body: JSON.stringify({ key: keys.trusted.public }) });
    expect(added.status).toBe(201);
    expect(await json(added)).toMatchObject({ fingerprint: keys.trusted.fingerprint, algorithm: expect.any(String) });
    await call(keysOf(repo), { method: "POST", body: JSON.stringify({ key: keys.untrusted.public }) });
    const listed = await json<{ keys: { fingerprint: string }[] }>(await call(keysOf(repo)));
    expect(listed.keys.map((k) => k.fingerprint)).toEqual([keys.trusted.fingerprint, keys.untrusted.fingerprint]);

    const asc = await apt(repo, "archive-keyring.asc");
    expect(asc.status).toBe(200);
    expect(asc.headers.get("content-type")).toBe("application/pgp-keys");
    expect(asc.headers.get("cache-control")).toBe("max-age=1800, proxy-revalidate");
    const ring = await openpgp.readKeys({ armoredKeys: await asc.text() });
    expect(ring.map((k) => k.getFingerprint().toUpperCase())).toEqual([
      keys.trusted.fingerprint,
      keys.untrusted.fingerprint,
    ]);
    const gpg = await apt(repo, "archive-keyring.gpg");
    const binary = await openpgp.readKeys({ binaryKeys: new Uint8Array(await gpg.arrayBuffer()) });
    expect(binary).toHaveLength(2);

    const removed = await call(`${keysOf(repo)}/${keys.untrusted.fingerprint.toLowerCase()}`, { method: "DELETE" });
    expect(await json(removed)).toEqual({ removed: keys.untrusted.fingerprint });
    const gone = await call(`${keysOf(repo)}/${keys.untrusted.fingerprint}`, { method: "DELETE" });
    expect(gone.status).toBe(404);
    expect((await json<{ error: { code: string } }>(gone)).error.code).toBe("key_not_found");
  });

  it.for([
    ["secret", "secret_key"],
    ["expired", "key_expired"],
    // A revoked key is not refused but recorded as revoked: test/worker/revocation.test.ts.
    ["garbage", "invalid_key"],
  ] as const)("refuses a %s key with %s", async ([kind, code], { expect }) => {
    const repo = uniqueRepo("badkey");
    await createRepo(repo, { trustKey: false });
    const keys = inject("keys");
    const key =
      kind === "secret"
        ? keys.trusted.secret
        : kind === "expired"
          ? keys.expired.public
          : "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nnot a key\n-----END PGP PUBLIC KEY BLOCK-----\n";
    const res = await call(keysOf(repo), { method: "POST", body: JSON.stringify({ key }) });
    expect(res.status).toBe(400);
    expect((await json<{ error: { code: string } }>(res)).error.code).toBe(code);
    expect(await json(await call(keysOf(repo)))).toEqual({ keys: [] });
  });

  it("needs the operator's credentials to change keys", async ({ expect }) => {
    const repo = uniqueRepo("keyauth");
    await createRepo(repo, { trustKey: false });
    const res = await call(keysOf(repo), {
      method: "POST",
      body: JSON.stringify({ key: inject("keys").trusted.public }),
      auth: null,
    });
    expect(res.status).toBe(401);
    const wrong = await call(keysOf(repo), { method: "POST", body: "{}", auth: "not-the-token" });
    expect(wrong.status).toBe(403);
  });
});

describe("admin", () => {
  it("creates repositories once, with unique hostnames", async ({ expect }) => {
    const repo = uniqueRepo("create");
    await createRepo(repo, { hostnames: ["apt.create-test.example"] });
    const dup = await call("/admin/v1/repositories", { method: "POST", body: JSON.stringify({ id: repo }) });
    expect(dup.status).toBe(409);
    expect((await json<{ error: { code: string } }>(dup)).error.code).toBe("repository_exists");
    const other = uniqueRepo("create");
    const taken = await call("/admin/v1/repositories", {
      method: "POST",
      body: JSON.stringify({ id: other, hostnames: ["apt.create-test.example"] }),
    });
    expect(taken.status).toBe(409);
    expect((await json<{ error: { code: string } }>(taken)).error.code).toBe("hostname_taken");
    expect(await env.DB.prepare("SELECT 1 FROM repositories WHERE id = ?").bind(other).first()).toBeNull();
    const bad = await call("/admin/v1/repositories", { method: "POST", body: JSON.stringify({ id: "Not Valid" }) });
    expect(bad.status).toBe(400);
    expect(await json(await call(`/admin/v1/repositories/${repo}`))).toEqual({
      id: repo,
      visibility: "public",
      active_release: null,
      hostnames: ["apt.create-test.example"],
    });
  });

  it("lists, shows and deletes repositories, with their blobs and object storage", async ({ expect }) => {
    const repo = uniqueRepo("delete");
    await createRepo(repo, { hostnames: ["apt.delete-test.example"] });
    await push(repo, "stable", "main", [makeDeb("hello", "1.0", "amd64")]);
    await publish(repo, ["stable"]);
    const listed = await json<{ repositories: { id: string; hostnames: string[]; active_release: string }[] }>(
      await call("/admin/v1/repositories"),
    );
    expect(listed.repositories.find((r) => r.id === repo)).toMatchObject({
      hostnames: ["apt.delete-test.example"],
      active_release: "r1",
    });
    expect(await json(await call(`/api/v1/repositories/${repo}`, { auth: null }))).toEqual({
      id: repo,
      base_url: "http://apt.delete-test.example",
      may_reuse_versions: false,
      retention_days: 30,
      visibility: "public",
      active_release: "r1",
      hostnames: ["apt.delete-test.example"],
    });
    const deleted = await call(`/admin/v1/repositories/${repo}`, { method: "DELETE" });
    expect(deleted.status).toBe(200);
    expect(await json(deleted)).toMatchObject({ deleted: repo });
    expect((await env.BLOBS.list({ prefix: `repos/${repo}/` })).objects).toEqual([]);
    expect((await call("/dists/stable/InRelease", { host: "apt.delete-test.example", auth: null })).status).toBe(404);
    expect((await call(`/api/v1/repositories/${repo}`)).status).toBe(404);
    // The name is free again, and the new repository starts empty.
    await createRepo(repo);
    expect(await json(await call(`/api/v1/repositories/${repo}/releases`))).toEqual({ releases: [] });
  });

  it("reports stats, finds a missing blob with fsck, and restores it with reindex", async ({ expect }) => {
    const repo = uniqueRepo("fsck");
    await createRepo(repo);
    await push(repo, "stable", "main", [makeDeb("hello", "1.0", "amd64"), makeDeb("hello-doc", "1.0", "all")]);
    await publish(repo, ["stable"]);
    const stats = await json<Record<string, unknown>>(await call(adminOf(repo, "stats")));
    expect(stats).toMatchObject({
      repository: repo,
      open_release: null,
      active_release: "r1",
      packages: 2,
      releases: 1,
      index_files: 2,
      dirty_indexes: 0,
      trusted_keys: 1,
      activations: 1,
      dirty: [],
    });
    expect(await json(await call(adminOf(repo, "fsck"), { method: "POST" }))).toEqual({ checked: 7, problems: [] });

    const release = await (await apt(repo, "dists/stable/Release")).text();
    const gz = release.split("\n").find((l) => /^ [0-9a-f]{64} .*main\/binary-amd64\/Packages\.gz$/.test(l)) ?? "";
    const lost = gz.trim().split(/\s+/)[0] ?? "";
    await env.BLOBS.delete(await blobKeyOf(repo, lost));
    const broken = await json<{ problems: { sha256: string; kind: string; problem: string }[] }>(
      await call(adminOf(repo, "fsck"), { method: "POST" }),
    );
    expect(broken.problems).toEqual([{ sha256: lost, kind: "index", problem: "missing" }]);

    const reindex = await json<{ release: string; dirty: number }>(
      await call(adminOf(repo, "reindex"), { method: "POST" }),
    );
    expect(reindex).toMatchObject({ release: "r2", dirty: 1 });
    const { regenerated } = await generate(repo, "stable");
    expect(regenerated).toEqual(["main/binary-amd64"]);
    const fixed = await json<{ problems: unknown[] }>(await call(adminOf(repo, "fsck"), { method: "POST" }));
    expect(fixed.problems).toEqual([]);
  });

  it("collects releases past retention and the blobs only they used", async ({ expect }) => {
    const repo = uniqueRepo("gc");
    const created = await call("/admin/v1/repositories", {
      method: "POST",
      body: JSON.stringify({ id: repo, retention_days: 0 }),
    });
    expect(created.status).toBe(201);
    await call(keysOf(repo), { method: "POST", body: JSON.stringify({ key: inject("keys").trusted.public }) });
    await push(repo, "stable", "main", [makeDeb("hello", "1.0", "amd64")]);
    await publish(repo, ["stable"]);
    await call(`/api/v1/repositories/${repo}/packages/remove`, {
      method: "POST",
      body: JSON.stringify({ dist: "stable", name: "hello" }),
    });
    await push(repo, "stable", "main", [makeDeb("hello", "2.0", "amd64")]);
    await publish(repo, ["stable"]);
    const orphan = makeDeb("orphan", "1.0", "amd64");
    await call(`/api/v1/repositories/${repo}/blobs/${orphan.sha256}`, {
      method: "PUT",
      body: orphan.bytes,
      headers: { "content-length": String(orphan.size) },
    });

    const kept = await json(await call(adminOf(repo, "gc"), { method: "POST", body: "{}" }));
    expect(kept).toMatchObject({ releases_deleted: ["r1"], packages_deleted: 0 });
    expect((await apt(repo, "pool/main/h/hello/hello_1.0_amd64.deb")).status).toBe(404);

    const swept = await json<{ packages_deleted: number; blobs_deleted: number }>(
      await call(adminOf(repo, "gc"), { method: "POST", body: JSON.stringify({ grace_seconds: 0 }) }),
    );
    expect(swept.packages_deleted).toBe(2);
    expect(swept.blobs_deleted).toBeGreaterThanOrEqual(2);
    expect((await call(`/api/v1/repositories/${repo}/blobs/${orphan.sha256}`, { method: "HEAD" })).status).toBe(404);
    expect(await json(await call(adminOf(repo, "fsck"), { method: "POST" }))).toMatchObject({ problems: [] });
    expect((await apt(repo, "pool/main/h/hello/hello_2.0_amd64.deb")).status).toBe(200);
    expect((await apt(repo, "dists/stable/InRelease")).status).toBe(200);
  });
});
