import { env } from "cloudflare:workers";
import { describe, inject, it } from "vitest";
import { formatIndexDocument, parseIndexDocument, SignedIndexDocumentSchema } from "../../schema/index-document.ts";
import {
  addPackages,
  apt,
  blobKeyOf,
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
  uploadDeb,
} from "../helpers/armor.ts";
import { fromBase64 } from "../helpers/bytes.ts";

/** Every object R2 holds for a repository: what "nothing stored" is checked against. */
async function storedKeys(repo: string): Promise<string[]> {
  const listed = await env.BLOBS.list({ prefix: `repos/${repo}/` });
  return listed.objects.map((o) => o.key);
}

async function errorOf(res: Response): Promise<{ status: number; code: string; message: string }> {
  const body = await json<{ error: { code: string; message: string } }>(res);
  return { status: res.status, code: body.error.code, message: body.error.message };
}

describe("bad uploads are refused with a code and leave nothing behind", () => {
  it("refuses a malformed .deb", async ({ expect }) => {
    const repo = uniqueRepo("malformed");
    await createRepo(repo);
    for (const hostile of inject("hostile").slice(0, 8)) {
      const bytes = fromBase64(hostile.base64);
      const sha256 = [...new Uint8Array(await crypto.subtle.digest("SHA-256", bytes))]
        .map((b) => b.toString(16).padStart(2, "0"))
        .join("");
      const res = await call(`/api/v1/repositories/${repo}/blobs/${sha256}`, {
        method: "PUT",
        body: bytes,
        headers: { "content-length": String(bytes.length) },
      });
      const body = await json<{ error: { code: string; details: { reason: string } } }>(res);
      expect(res.status, hostile.name).toBe(400);
      expect(body.error.code).toBe("invalid_package");
      expect(body.error.details.reason, hostile.name).toBe(hostile.code);
      const head = await call(`/api/v1/repositories/${repo}/blobs/${sha256}`, { method: "HEAD" });
      expect(head.status).toBe(404);
    }
    expect(await storedKeys(repo)).toEqual([]);
  });

  it("refuses a body whose SHA-256 is not the declared one", async ({ expect }) => {
    const repo = uniqueRepo("hash");
    await createRepo(repo);
    const deb = makeDeb("hello", "1.0", "amd64");
    const wrong = "0".repeat(64);
    const res = await call(`/api/v1/repositories/${repo}/blobs/${wrong}`, {
      method: "PUT",
      body: deb.bytes,
      headers: { "content-length": String(deb.size) },
    });
    expect(await errorOf(res)).toMatchObject({ status: 400, code: "hash_mismatch" });
    expect(await storedKeys(repo)).toEqual([]);
  });

  it("refuses a body longer than its Content-Length", async ({ expect }) => {
    const repo = uniqueRepo("length");
    await createRepo(repo);
    const deb = makeDeb("hello", "1.0", "amd64");
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(deb.bytes);
        controller.enqueue(new Uint8Array(100));
        controller.close();
      },
    });
    const res = await call(`/api/v1/repositories/${repo}/blobs/${deb.sha256}`, {
      method: "PUT",
      body,
      headers: { "content-length": String(deb.size) },
      duplex: "half",
    } as RequestInit);
    expect(await errorOf(res)).toMatchObject({ status: 400, code: "size_mismatch" });
    expect(await storedKeys(repo)).toEqual([]);

    const missing = await call(`/api/v1/repositories/${repo}/blobs/${deb.sha256}`, {
      method: "PUT",
      body: new ReadableStream({
        start(c) {
          c.enqueue(deb.bytes);
          c.close();
        },
      }),
      duplex: "half",
    } as RequestInit);
    expect(await errorOf(missing)).toMatchObject({ status: 411, code: "length_required" });
  });

  it("refuses a body above the single-request limit before reading it, and pointlessly large JSON", async ({
    expect,
  }) => {
    const repo = uniqueRepo("toolarge");
    await createRepo(repo);
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new Uint8Array(16));
        c.close();
      },
    });
    const res = await call(`/api/v1/repositories/${repo}/blobs/${"a".repeat(64)}`, {
      method: "PUT",
      body,
      headers: { "content-length": String(100 * 1024 * 1024 + 1) },
      duplex: "half",
    } as RequestInit);
    const err = await errorOf(res);
    expect(err).toMatchObject({ status: 413, code: "body_too_large" });
    expect(err.message).toContain("multipart");
    const big = JSON.stringify({ dist: "stable", packages: ["x".repeat(3 * 1024 * 1024)] });
    const json = await call(`/api/v1/repositories/${repo}/packages`, { method: "POST", body: big });
    expect(await errorOf(json)).toMatchObject({ status: 413, code: "body_too_large" });
    expect(await storedKeys(repo)).toEqual([]);
  });

  it("refuses a second content for a (name, version, architecture), and accepts the same content again", async ({
    expect,
  }) => {
    const repo = uniqueRepo("reuse");
    await createRepo(repo);
    const first = makeDeb("hello", "1.0", "amd64");
    const second = makeDeb("hello", "1.0", "amd64", { Section: "utils" });
    expect((await uploadDeb(repo, first)).status).toBe(201);
    expect((await uploadDeb(repo, first)).status).toBe(200);
    const res = await uploadDeb(repo, second);
    const body = await json<{ error: { code: string; details: Record<string, string> } }>(res);
    expect(res.status).toBe(409);
    expect(body.error.code).toBe("version_exists");
    expect(body.error.details).toMatchObject({
      name: "hello",
      version: "1.0",
      architecture: "amd64",
      existing_sha256: first.sha256,
    });
    expect(await storedKeys(repo)).toEqual([await blobKeyOf(repo, first.sha256)]);

    const reusable = uniqueRepo("reusable");
    await createRepo(reusable, { may_reuse_versions: true });
    expect((await uploadDeb(reusable, first)).status).toBe(201);
    expect((await uploadDeb(reusable, second)).status).toBe(201);
  });

  it("refuses adding packages that were never uploaded, and bad request bodies", async ({ expect }) => {
    const repo = uniqueRepo("add");
    await createRepo(repo);
    const deb = makeDeb("hello", "1.0", "amd64");
    expect(await errorOf(await addPackages(repo, "stable", "main", [deb]))).toMatchObject({
      status: 404,
      code: "package_not_found",
    });
    const bad = await call(`/api/v1/repositories/${repo}/packages`, {
      method: "POST",
      body: JSON.stringify({ dist: "Stable/../x", packages: [deb.sha256] }),
    });
    expect(await errorOf(bad)).toMatchObject({ status: 400, code: "invalid_request" });
    const notJson = await call(`/api/v1/repositories/${repo}/packages`, { method: "POST", body: "{" });
    expect(await errorOf(notJson)).toEqual({
      status: 400,
      code: "invalid_request",
      message: "the request body must be JSON",
    });
    const releases = await json<{ releases: unknown[] }>(await call(`/api/v1/repositories/${repo}/releases`));
    expect(releases.releases).toEqual([]);
  });
});

describe("signed documents are checked exactly", () => {
  async function prepared() {
    const repo = uniqueRepo("sig");
    await createRepo(repo);
    await push(repo, "stable", "main", [makeDeb("hello", "1.0", "amd64")]);
    return { repo, ...(await generate(repo, "stable")) };
  }

  async function stillUnpublished(repo: string, expect: (v: unknown) => { toBe(x: unknown): void }) {
    expect((await apt(repo, "dists/stable/InRelease")).status).toBe(404);
  }

  it("refuses a forged Release text, even when it is validly signed", async ({ expect }) => {
    const { repo, document } = await prepared();
    const forged = { ...document, release_text: document.release_text.replace("Suite: stable", "Suite: stab1e") };
    const res = await submit(repo, "stable", await sign(forged));
    expect(await errorOf(res)).toMatchObject({ status: 422, code: "release_mismatch" });
    await stillUnpublished(repo, expect);
  });

  it("refuses a signature by a key the repository does not trust", async ({ expect }) => {
    const { repo, document } = await prepared();
    const res = await submit(repo, "stable", await sign(document, inject("keys").untrusted));
    expect(await errorOf(res)).toMatchObject({ status: 422, code: "untrusted_key" });
    // Claiming the trusted fingerprint does not help: the signature is not the trusted key's.
    const claimed = parseIndexDocument(await sign(document, inject("keys").untrusted), SignedIndexDocumentSchema);
    if (!claimed.ok) throw new Error(claimed.error.message);
    const lie = formatIndexDocument({ ...claimed.value, fingerprint: inject("keys").trusted.fingerprint });
    expect(await errorOf(await submit(repo, "stable", lie))).toMatchObject({ status: 422 });
    await stillUnpublished(repo, expect);
  });

  it("refuses a signature over an older generation", async ({ expect }) => {
    const { repo, document } = await prepared();
    const signed = await sign(document);
    await push(repo, "stable", "main", [makeDeb("hello", "1.1", "amd64")]);
    const res = await submit(repo, "stable", signed);
    const err = await errorOf(res);
    expect(err).toMatchObject({ status: 409, code: "stale_generation" });
    expect(err.message).toContain("armor index generate");
    await stillUnpublished(repo, expect);
  });

  it("refuses documents that do not parse, or name another dist or repository", async ({ expect }) => {
    const { repo, document } = await prepared();
    expect(await errorOf(await submit(repo, "stable", "not = [toml"))).toMatchObject({
      status: 400,
      code: "malformed_document",
    });
    expect(await errorOf(await submit(repo, "testing", await sign(document)))).toMatchObject({
      status: 400,
      code: "malformed_document",
    });
    const other = await sign({ ...document, repository: "acme/elsewhere" });
    expect(await errorOf(await submit(repo, "stable", other))).toMatchObject({
      status: 400,
      code: "malformed_document",
    });
    await stillUnpublished(repo, expect);
  });

  it("refuses changes to an active release", async ({ expect }) => {
    const { repo, document } = await prepared();
    const signed = await sign(document);
    expect((await submit(repo, "stable", signed)).status).toBe(200);
    expect(await errorOf(await submit(repo, "stable", signed))).toMatchObject({
      status: 409,
      code: "release_immutable",
    });
    const extra = makeDeb("extra", "1.0", "amd64");
    await uploadDeb(repo, extra);
    const add = await call(`/api/v1/repositories/${repo}/packages`, {
      method: "POST",
      body: JSON.stringify({ release: document.release, dist: "stable", packages: [extra.sha256] }),
    });
    expect(await errorOf(add)).toMatchObject({ status: 409, code: "release_immutable" });
    const remove = await call(`/api/v1/repositories/${repo}/packages/remove`, {
      method: "POST",
      body: JSON.stringify({ release: document.release, dist: "stable", name: "hello" }),
    });
    expect(await errorOf(remove)).toMatchObject({ status: 409, code: "release_immutable" });
    const show = await json<{ state: string; counts: unknown[] }>(
      await call(`/api/v1/repositories/${repo}/releases/${document.release}`),
    );
    expect(show.state).toBe("active");
    expect(show.counts).toEqual([{ dist: "stable", component: "main", architecture: "amd64", count: 1 }]);
  });
});

describe("apt paths", () => {
  it.for([
    "dists/..%2f..%2fother/dists/stable/Release",
    "dists/stable/..%5cRelease",
    "dists/%00/Release",
    "pool/main/h/hello/.hidden.deb",
  ] as const)("refuses %s with invalid_path", async (path, { expect }) => {
    const repo = uniqueRepo("traversal");
    await createRepo(repo, { hostnames: [`apt.${repo.replace("/", "-")}.example`] });
    const res = await apt(repo, path);
    expect(await errorOf(res)).toMatchObject({ status: 400, code: "invalid_path" });
    const viaHost = await call(`/${path}`, { host: `apt.${repo.replace("/", "-")}.example`, auth: null });
    expect(await errorOf(viaHost)).toMatchObject({ status: 400, code: "invalid_path" });
  });

  it("resolves dot segments while parsing the URL, so they cannot climb out of a repository", async ({ expect }) => {
    const repo = uniqueRepo("dots");
    await createRepo(repo, { hostnames: ["apt.dots.example"] });
    // WHATWG URL parsing turns /acme/x/pool/%2e%2e/%2e%2e/secret into /acme/secret before routing.
    const byPath = await apt(repo, "pool/%2e%2e/%2e%2e/secret");
    expect(await errorOf(byPath)).toMatchObject({ status: 404, code: "repository_not_found" });
    const byHost = await call("/pool/%2e%2e/%2e%2e/etc/passwd", { host: "apt.dots.example", auth: null });
    expect(await errorOf(byHost)).toMatchObject({ status: 404, code: "not_found" });
  });

  it("never serves another repository's blob by hash", async ({ expect }) => {
    const mine = uniqueRepo("mine");
    const theirs = uniqueRepo("theirs");
    for (const repo of [mine, theirs]) {
      await createRepo(repo);
      await push(repo, "stable", "main", [makeDeb(repo === mine ? "mine" : "theirs", "1.0", "amd64")]);
      await publish(repo, ["stable"]);
    }
    const release = await (await apt(theirs, "dists/stable/Release")).text();
    const line = release.split("\n").find((l) => l.endsWith("main/binary-amd64/Packages") && l.length > 80) ?? "";
    const sha = line.trim().split(/\s+/)[0] ?? "";
    expect((await apt(theirs, `dists/stable/main/binary-amd64/by-hash/SHA256/${sha}`)).status).toBe(200);
    const res = await apt(mine, `dists/stable/main/binary-amd64/by-hash/SHA256/${sha}`);
    expect(await errorOf(res)).toMatchObject({ status: 404, code: "not_found" });
    const pool = await apt(mine, "pool/main/t/theirs/theirs_1.0_amd64.deb");
    expect(pool.status).toBe(404);
  });

  it("asks for credentials on a private repository and accepts apt's Basic auth", async ({ expect }) => {
    const repo = uniqueRepo("private");
    await createRepo(repo, { visibility: "private" });
    await push(repo, "stable", "main", [makeDeb("hello", "1.0", "amd64")]);
    await publish(repo, ["stable"]);
    const anonymous = await apt(repo, "dists/stable/InRelease");
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get("www-authenticate")).toBe('Basic realm="armor", charset="UTF-8"');
    expect(anonymous.headers.get("vary")).toBe("Authorization");
    const wrong = await apt(repo, "dists/stable/InRelease", { headers: { authorization: `Basic ${btoa("ci:nope")}` } });
    expect(wrong.status).toBe(403);
    const basic = await apt(repo, "dists/stable/InRelease", {
      headers: { authorization: `Basic ${btoa("ci:test-operator-token")}` },
    });
    expect(basic.status).toBe(200);
    expect(basic.headers.get("vary")).toBe("Authorization");
  });
});
