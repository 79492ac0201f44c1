/**
 * A repository deleted and created again under the same id shares nothing with its predecessor
 * (DESIGN.md §4b): not its object, not its blobs, not an edge cache entry. Release ids start again
 * at r1 in the successor, so anything keyed by (id, release) alone would hand the predecessor's
 * files to the successor's readers.
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, it } from "vitest";
import type { RepositoryObject } from "../../objects/repository/repository-object.ts";
import {
  apt,
  bytesOf,
  call,
  createRepo,
  json,
  makeDeb,
  publish,
  push,
  scopeOf,
  stubOf,
  uniqueRepo,
} from "../helpers/armor.ts";

const TOKEN = "test-operator-token";

/** Read a file twice as a viewer would, so the edge cache holds its answer and bytes. */
async function warm(repo: string, path: string, auth: string | null): Promise<Uint8Array> {
  const first = await apt(repo, path, { auth });
  if (first.status !== 200) throw new Error(`${path}: ${first.status} ${await first.text()}`);
  const bytes = await bytesOf(first);
  // The cache is written after the answer (waitUntil); a second read proves it is there.
  for (let i = 0; i < 20; i++) {
    const again = await apt(repo, path, { auth });
    await again.arrayBuffer();
    if (again.headers.get("x-armor-cache") === "hit") return bytes;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`${path} never came from the edge cache`);
}

async function deleteRepo(repo: string): Promise<void> {
  const res = await call(`/admin/v1/repositories/${repo}`, { method: "DELETE" });
  if (res.status !== 200) throw new Error(`deleting ${repo}: ${res.status} ${await res.text()}`);
}

const PATHS = [
  "dists/stable/InRelease",
  "dists/stable/Release.gpg",
  "dists/stable/main/binary-amd64/Packages",
  "pool/main/s/secret/secret_1.0_amd64.deb",
];

describe("a repository created again under a deleted one's id", () => {
  it("never serves the deleted private repository's files to the public successor's readers", async ({ expect }) => {
    const repo = uniqueRepo("private-then-public");
    await createRepo(repo, { visibility: "private" });
    await push(repo, "stable", "main", [makeDeb("secret", "1.0", "amd64")]);
    await publish(repo, ["stable"]);
    for (const path of PATHS) await warm(repo, path, TOKEN);
    const predecessor = await scopeOf(repo);
    await deleteRepo(repo);
    expect((await env.BLOBS.list({ prefix: `repos/${predecessor}/` })).objects).toEqual([]);

    await createRepo(repo, { visibility: "public" });
    expect(await scopeOf(repo)).not.toBe(predecessor);
    // Nothing published yet: anonymous readers get 404s, not the predecessor's cached files.
    for (const path of PATHS) {
      const res = await apt(repo, path, { auth: null });
      expect(res.status, path).toBe(404);
      expect(await json(res), path).toMatchObject({ error: { code: "not_found" } });
    }
    // Its own r1 is its own: the predecessor's package is not in it, nor in its pool.
    await push(repo, "stable", "main", [makeDeb("open", "1.0", "amd64")]);
    await publish(repo, ["stable"]);
    const packages = await (await apt(repo, "dists/stable/main/binary-amd64/Packages", { auth: null })).text();
    expect(packages).toMatch(/^Package: open$/m);
    expect(packages).not.toMatch(/secret/);
    expect((await apt(repo, "pool/main/s/secret/secret_1.0_amd64.deb", { auth: null })).status).toBe(404);
    expect((await apt(repo, "dists/stable/Release.gpg", { auth: null })).status).toBe(200);
  });

  it("never serves the deleted public repository's files to the private successor's viewers", async ({ expect }) => {
    const repo = uniqueRepo("public-then-private");
    await createRepo(repo, { visibility: "public" });
    await push(repo, "stable", "main", [makeDeb("secret", "1.0", "amd64")]);
    await publish(repo, ["stable"]);
    const old: Record<string, Uint8Array> = {};
    for (const path of PATHS) old[path] = await warm(repo, path, null);
    await deleteRepo(repo);

    await createRepo(repo, { visibility: "private" });
    for (const path of PATHS) expect((await apt(repo, path, { auth: null })).status, path).toBe(401);
    for (const path of PATHS) expect((await apt(repo, path, { auth: TOKEN })).status, path).toBe(404);
    await push(repo, "stable", "main", [makeDeb("other", "2.0", "amd64")]);
    await publish(repo, ["stable"]);
    for (const path of PATHS.slice(0, 3)) {
      const res = await apt(repo, path, { auth: TOKEN });
      expect(res.status, path).toBe(200);
      expect(await bytesOf(res), path).not.toEqual(old[path]);
    }
    const packages = await (await apt(repo, "dists/stable/main/binary-amd64/Packages", { auth: TOKEN })).text();
    expect(packages).toMatch(/^Package: other$/m);
    expect(packages).not.toMatch(/secret/);
    expect((await apt(repo, "pool/main/s/secret/secret_1.0_amd64.deb", { auth: TOKEN })).status).toBe(404);
  });

  it("removes everything R2 held for the deleted repository, and nothing of another", async ({ expect }) => {
    const repo = uniqueRepo("wiped");
    const neighbour = `${repo}x`;
    await createRepo(repo);
    await createRepo(neighbour);
    for (const r of [repo, neighbour]) {
      await push(r, "stable", "main", [makeDeb("hello", "1.0", "amd64")]);
      await publish(r, ["stable"]);
    }
    const scope = await scopeOf(repo);
    const kept = (await env.BLOBS.list({ prefix: `repos/${await scopeOf(neighbour)}/` })).objects.length;
    expect((await env.BLOBS.list({ prefix: `repos/${scope}/` })).objects.length).toBeGreaterThan(0);
    await deleteRepo(repo);
    expect((await env.BLOBS.list({ prefix: `repos/${scope}/` })).objects).toEqual([]);
    expect((await env.BLOBS.list({ prefix: `repos/${await scopeOf(neighbour)}/` })).objects.length).toBe(kept);
    const fsck = await json(await call(`/admin/v1/repositories/${neighbour}/fsck`, { method: "POST" }));
    expect(fsck).toMatchObject({ problems: [] });
  });
});

describe("deleting a repository", () => {
  it("finishes on its own when R2 fails part way, and serves nothing meanwhile", async ({ expect }) => {
    const repo = uniqueRepo("cut-short");
    await createRepo(repo);
    await push(repo, "stable", "main", [makeDeb("hello", "1.0", "amd64")]);
    await publish(repo, ["stable"]);
    const scope = await scopeOf(repo);
    const stub = await stubOf(repo);
    // R2 refuses deletes while the repository is deleted, as an outage would.
    await runInDurableObject(stub, (instance: RepositoryObject) => {
      const real = (instance as unknown as { env: Env }).env;
      const failing = Object.create(real.BLOBS) as R2Bucket;
      failing.list = real.BLOBS.list.bind(real.BLOBS);
      failing.delete = async () => {
        throw new Error("R2 is down");
      };
      (instance as unknown as { env: Env }).env = { ...real, BLOBS: failing };
    });
    const res = await call(`/admin/v1/repositories/${repo}`, { method: "DELETE" });
    expect(res.status).toBe(202);
    expect(await json(res)).toEqual({ deleted: repo, blobs_deleted: 0, finished: false });
    // The edge no longer routes to it, and its object answers as a deleted repository.
    expect((await apt(repo, "dists/stable/InRelease", { auth: null })).status).toBe(404);
    expect(await stub.resolve("r1", "dists/stable/InRelease")).toBeNull();
    expect((await env.BLOBS.list({ prefix: `repos/${scope}/` })).objects.length).toBeGreaterThan(0);
    // R2 is back: the alarm the deletion set finishes it.
    await runInDurableObject(stub, (instance: RepositoryObject) => {
      const self = instance as unknown as { env: Env };
      self.env = { ...self.env, BLOBS: env.BLOBS };
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect((await env.BLOBS.list({ prefix: `repos/${scope}/` })).objects).toEqual([]);
    const rows = await runInDurableObject(
      stub,
      (_instance, state) => state.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM packages").one().n,
    );
    expect(rows).toBe(0);
    expect(await runDurableObjectAlarm(stub)).toBe(false);
  });
});
