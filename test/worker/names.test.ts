/**
 * A repository is named by `owner/name` or by any hostname it is served at, everywhere the API
 * takes one (DESIGN.md §2).
 */
import { describe, it } from "vitest";
import { parseIndexDocument, UnsignedIndexDocumentSchema } from "../../schema/index-document.ts";
import {
  apt,
  bytesOf,
  call,
  createRepo,
  json,
  makeDeb,
  publish,
  push,
  sha256Hex,
  sign,
  uniqueRepo,
} from "../helpers/armor.ts";

describe("a repository named by its hostname", () => {
  it("publishes through the API by hostname as by owner/name", async ({ expect }) => {
    const repo = uniqueRepo("by-host");
    const host = `apt.${repo.replace("/", "-")}.example`;
    await createRepo(repo, { hostnames: [host] });
    const base = `/api/v1/repositories/${host}`;
    const deb = makeDeb("hello", "1.0", "amd64");
    const put = await call(`${base}/blobs/${deb.sha256}`, {
      method: "PUT",
      body: deb.bytes,
      headers: { "content-length": String(deb.size) },
    });
    expect(put.status).toBe(201);
    const added = await call(`${base}/packages`, {
      method: "POST",
      body: JSON.stringify({ dist: "stable", component: "main", packages: [deb.sha256] }),
    });
    expect(added.status).toBe(200);
    // The mixed case a user may type is the same hostname.
    const generated = await call(`/api/v1/repositories/${host.toUpperCase()}/dists/stable/generate`, {
      method: "POST",
    });
    expect(generated.status).toBe(200);
    const { document } = await json<{ document: string }>(generated);
    expect(document).toContain(`repository = "${repo}"`);
    const parsed = parseIndexDocument(document, UnsignedIndexDocumentSchema);
    if (!parsed.ok) throw new Error(parsed.error.message);
    const submitted = await call(`${base}/dists/stable/signed`, { method: "POST", body: await sign(parsed.value) });
    expect(submitted.status).toBe(200);
    expect(await json(await call(base))).toMatchObject({ id: repo, active_release: "r1", hostnames: [host] });
    expect(await json(await call(`${base}/packages?dist=stable`))).toMatchObject({
      packages: [{ name: "hello", version: "1.0" }],
    });
    expect((await apt(repo, "dists/stable/InRelease")).status).toBe(200);
    expect(await json(await call(`/admin/v1/repositories/${host}`))).toMatchObject({ id: repo, hostnames: [host] });
  });

  it("answers an unknown hostname with 404 unknown_host naming it", async ({ expect }) => {
    for (const path of [
      "/api/v1/repositories/apt.nobody-here.example",
      "/api/v1/repositories/apt.nobody-here.example/packages?dist=stable",
      "/admin/v1/repositories/apt.nobody-here.example/stats",
    ]) {
      const res = await call(path);
      expect(res.status, path).toBe(404);
      const body = await json<{ error: { code: string; message: string } }>(res);
      expect(body.error.code, path).toBe("unknown_host");
      expect(body.error.message, path).toContain("apt.nobody-here.example");
    }
    const bad = await call("/api/v1/repositories/not_a.host!/packages");
    expect(bad.status).toBe(400);
    expect(await json(bad)).toMatchObject({ error: { code: "invalid_request" } });
  });
});

describe("a component with a slash", () => {
  it("is served end to end: indexes, Release, by-hash, pool, snapshots, listing and removal", async ({ expect }) => {
    const repo = uniqueRepo("slashed");
    await createRepo(repo);
    const deb = makeDeb("hello", "1.0", "amd64");
    const other = makeDeb("other", "1.0", "all");
    await push(repo, "bookworm", "stable/v17", [deb, other]);
    await publish(repo, ["bookworm"]);

    const release = await (await apt(repo, "dists/bookworm/Release")).text();
    expect(release).toMatch(/^Components: stable\/v17$/m);
    const listed = release.match(/^ ([0-9a-f]{64}) +(\d+) stable\/v17\/binary-amd64\/Packages$/m);
    expect(listed).not.toBeNull();
    const packages = await apt(repo, "dists/bookworm/stable/v17/binary-amd64/Packages");
    expect(packages.status).toBe(200);
    const text = await packages.text();
    expect(sha256Hex(new TextEncoder().encode(text))).toBe(listed?.[1]);
    expect(text).toContain("Filename: pool/stable/v17/h/hello/hello_1.0_amd64.deb");
    const byHash = await apt(repo, `dists/bookworm/stable/v17/binary-amd64/by-hash/SHA256/${listed?.[1]}`);
    expect(byHash.status).toBe(200);
    expect(await byHash.text()).toBe(text);
    const pool = await apt(repo, "pool/stable/v17/h/hello/hello_1.0_amd64.deb");
    expect(pool.status).toBe(200);
    expect(sha256Hex(await bytesOf(pool))).toBe(deb.sha256);
    const now = new Date(Date.now() + 60_000).toISOString().replace(/[-:]/g, "").slice(0, 15);
    expect((await apt(repo, `${now}Z/dists/bookworm/stable/v17/binary-amd64/Packages`)).status).toBe(200);

    const list = await json<{ packages: { name: string; component: string }[] }>(
      await call(`/api/v1/repositories/${repo}/packages?dist=bookworm&component=stable/v17`),
    );
    expect(list.packages.map((p) => [p.name, p.component])).toEqual([
      ["hello", "stable/v17"],
      ["other", "stable/v17"],
    ]);
    const removed = await call(`/api/v1/repositories/${repo}/packages/remove`, {
      method: "POST",
      body: JSON.stringify({ dist: "bookworm", component: "stable/v17", name: "other" }),
    });
    expect(removed.status).toBe(200);
    await publish(repo, ["bookworm"]);
    expect(await (await apt(repo, "dists/bookworm/stable/v17/binary-amd64/Packages")).text()).not.toContain(
      "Package: other",
    );
  });

  it("refuses empty, dot, uppercase and too deep segments with a clear code", async ({ expect }) => {
    const repo = uniqueRepo("bad-components");
    await createRepo(repo);
    const deb = makeDeb("hello", "1.0", "amd64");
    await push(repo, "stable", "main", [deb]);
    for (const component of ["stable//v17", "../main", "stable/..", "/main", "main/", "Stable/v17", "a/b/c/d/e"]) {
      const res = await call(`/api/v1/repositories/${repo}/packages`, {
        method: "POST",
        body: JSON.stringify({ dist: "stable", component, packages: [deb.sha256] }),
      });
      expect(res.status, component).toBe(400);
      const body = await json<{ error: { code: string; message: string } }>(res);
      expect(body.error.code, component).toBe("invalid_request");
      expect(body.error.message, component).toContain("stable/v17");
    }
  });
});
