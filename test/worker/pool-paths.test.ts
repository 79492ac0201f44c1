/**
 * One pool path, one content: apt fetches a package by its Filename alone, and pool file names
 * leave the epoch out (deb/pool.ts), so `1:1.0` and `2:1.0` of one package would share a file.
 * Whatever the order of uploads, batches and additions, no two contents are listed under one path.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, it } from "vitest";
import { readDeb } from "../../deb/deb-reader.ts";
import { Packages } from "../../objects/repository/packages.ts";
import { repositoryStub } from "../../worker/stub.ts";
import {
  addPackages,
  apt,
  blobKeyOf,
  call,
  createRepo,
  generate,
  json,
  makeDeb,
  push,
  scopeOf,
  sign,
  submit,
  type TestDeb,
  uniqueRepo,
  uploadDeb,
} from "../helpers/armor.ts";

interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

async function batch(repo: string, debs: TestDeb[]): Promise<Response> {
  const form = new FormData();
  for (const d of debs) form.append(d.sha256, new File([d.bytes], `${d.sha256}.deb`));
  const encoded = new Request("http://encode.invalid/", { method: "POST", body: form });
  const body = new Uint8Array(await encoded.arrayBuffer());
  return call(`/api/v1/repositories/${repo}/blobs`, {
    method: "POST",
    body,
    headers: { "content-type": encoded.headers.get("content-type") ?? "", "content-length": String(body.length) },
  });
}

async function stored(repo: string, deb: TestDeb): Promise<boolean> {
  const res = await call(`/api/v1/repositories/${repo}/blobs/${deb.sha256}`, { method: "HEAD" });
  return res.status === 200;
}

async function r2Has(repo: string, deb: TestDeb): Promise<boolean> {
  return (await env.BLOBS.head(await blobKeyOf(repo, deb.sha256))) !== null;
}

describe("pool paths", () => {
  it("refuses a second version of one pool file name, in a single upload", async ({ expect }) => {
    const repo = uniqueRepo("epoch");
    await createRepo(repo);
    const one = makeDeb("hello", "1:1.0", "amd64");
    const two = makeDeb("hello", "2:1.0", "amd64");
    expect((await uploadDeb(repo, one)).status).toBe(201);
    const refused = await uploadDeb(repo, two);
    expect(refused.status).toBe(409);
    expect(await json<ErrorBody>(refused)).toMatchObject({
      error: {
        code: "filename_exists",
        message: expect.stringContaining("hello_1.0_amd64.deb"),
        details: { version: "2:1.0", other_version: "1:1.0", filename: "hello_1.0_amd64.deb" },
      },
    });
    expect(await stored(repo, two)).toBe(false);
    expect(await r2Has(repo, two)).toBe(false);
    // Another architecture, or another upstream version, has a file name of its own.
    expect((await uploadDeb(repo, makeDeb("hello", "2:1.0", "arm64"))).status).toBe(201);
    expect((await uploadDeb(repo, makeDeb("hello", "2:1.0-1", "amd64"))).status).toBe(201);
  });

  it("refuses it in a batch, against the repository and within the batch, storing nothing", async ({ expect }) => {
    const repo = uniqueRepo("epochbatch");
    await createRepo(repo);
    const one = makeDeb("tool", "1:2.0", "amd64");
    const two = makeDeb("tool", "3:2.0", "amd64");
    const other = makeDeb("other", "1.0", "amd64");

    const within = await batch(repo, [other, one, two]);
    expect(within.status).toBe(409);
    expect(await json<ErrorBody>(within)).toMatchObject({
      error: { code: "filename_exists", details: { file: `${two.sha256}.deb`, other_version: "1:2.0" } },
    });
    for (const d of [other, one, two]) expect(await stored(repo, d)).toBe(false);

    expect((await batch(repo, [one])).status).toBe(201);
    const against = await batch(repo, [other, two]);
    expect(against.status).toBe(409);
    expect(await json<ErrorBody>(against)).toMatchObject({
      error: { code: "filename_exists", details: { filename: "tool_2.0_amd64.deb", other_version: "1:2.0" } },
    });
    expect(await stored(repo, other)).toBe(false);
    expect(await r2Has(repo, two)).toBe(false);
  });

  it("never lists two contents under one path, even for packages uploaded before the rule", async ({ expect }) => {
    const repo = uniqueRepo("epochlegacy");
    await createRepo(repo);
    const one = makeDeb("hello", "1:1.0", "amd64");
    const two = makeDeb("hello", "2:1.0", "amd64");
    expect((await uploadDeb(repo, one)).status).toBe(201);
    // What an older version of the object accepted: the second epoch registered beside the first.
    const parsed = await readDeb(new Blob([two.bytes]).stream());
    if (!parsed.ok) throw new Error(parsed.error.message);
    const { control, hashes } = parsed.value;
    await env.BLOBS.put(await blobKeyOf(repo, two.sha256), two.bytes);
    await runInDurableObject(repositoryStub(env, await scopeOf(repo)), (_instance, state) => {
      const q = new Packages(state.storage);
      q.insertPackage({
        ...hashes,
        name: control.package,
        version: control.version,
        architecture: control.architecture,
        source: control.source,
        fields: control.fields,
        uploadedAt: Date.now(),
        packed: null,
      });
      q.bindVersion(control.package, control.version, control.architecture, hashes.sha256, Date.now());
    });

    const both = await addPackages(repo, "stable", "main", [one, two]);
    expect(both.status).toBe(409);
    expect(await json<ErrorBody>(both)).toMatchObject({
      error: { code: "filename_exists", details: { pool_path: "pool/main/h/hello/hello_1.0_amd64.deb" } },
    });
    expect((await addPackages(repo, "stable", "main", [one])).status).toBe(200);
    const { document } = await generate(repo, "stable");
    expect((await submit(repo, "stable", await sign(document))).status).toBe(200);

    // Not beside it in another dist, nor in its place in a later release: the path is served as
    // immutable, so it keeps its first content.
    for (const dist of ["testing", "stable"]) {
      if (dist === "stable") {
        const removed = await call(`/api/v1/repositories/${repo}/packages/remove`, {
          method: "POST",
          body: JSON.stringify({ dist: "stable", name: "hello" }),
        });
        expect(removed.status).toBe(200);
      }
      const later = await addPackages(repo, dist, "main", [two]);
      expect(later.status).toBe(409);
      expect(await json<ErrorBody>(later)).toMatchObject({
        error: {
          code: "filename_exists",
          message: expect.stringContaining("in dist stable of release r1"),
          details: { other_version: "1:1.0", other_sha256: one.sha256 },
        },
      });
    }
  });

  it("keeps one content per path within a release when versions may be reused", async ({ expect }) => {
    const repo = uniqueRepo("reuse");
    await createRepo(repo, { may_reuse_versions: true });
    const first = makeDeb("hello", "1.0", "amd64");
    const rebuilt = makeDeb("hello", "1.0", "amd64", { "X-Rebuild": "2" });
    await push(repo, "stable", "main", [first]);
    await push(repo, "testing", "main", [makeDeb("tool", "1.0", "amd64")]);
    expect((await uploadDeb(repo, rebuilt)).status).toBe(201);
    // Reuse rebinds a version; it does not let another epoch share its file.
    expect((await uploadDeb(repo, makeDeb("hello", "1:1.0", "amd64"))).status).toBe(409);

    const beside = await addPackages(repo, "testing", "main", [rebuilt]);
    expect(beside.status).toBe(409);
    expect(await json<ErrorBody>(beside)).toMatchObject({
      error: {
        code: "filename_exists",
        message: expect.stringContaining("in dist stable of release r1"),
        details: { pool_path: "pool/main/h/hello/hello_1.0_amd64.deb", other_sha256: first.sha256 },
      },
    });
    // In its own dist it replaces the old content, and the path serves the new one.
    expect((await addPackages(repo, "stable", "main", [rebuilt])).status).toBe(200);
    expect((await addPackages(repo, "testing", "main", [rebuilt])).status).toBe(200);
    for (const dist of ["stable", "testing"]) {
      const { document } = await generate(repo, dist);
      await (await submit(repo, dist, await sign(document))).body?.cancel();
    }
    for (const dist of ["stable", "testing"]) {
      const packages = await (await apt(repo, `dists/${dist}/main/binary-amd64/Packages`)).text();
      expect(packages).toContain(`SHA256: ${rebuilt.sha256}`);
      expect(packages).not.toContain(first.sha256);
    }
    const pool = await apt(repo, "pool/main/h/hello/hello_1.0_amd64.deb");
    expect(new Uint8Array(await pool.arrayBuffer())).toEqual(rebuilt.bytes);
  });
});
