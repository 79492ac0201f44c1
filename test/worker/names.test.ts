/**
 * A repository is named by `owner/name` or by any hostname it is served at, everywhere the API
 * takes one (DESIGN.md §2).
 */
import { describe, it } from "vitest";
import { parseIndexDocument, UnsignedIndexDocumentSchema } from "../../schema/index-document.ts";
import { apt, call, createRepo, json, makeDeb, sign, uniqueRepo } from "../helpers/armor.ts";

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
