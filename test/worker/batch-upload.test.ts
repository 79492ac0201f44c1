/**
 * Batch uploads (`POST …/blobs`, multipart/form-data) and the batch existence check
 * (`POST …/blobs/lookup`): what is stored, what is answered, and that a refused batch leaves
 * nothing behind.
 */
import { env } from "cloudflare:workers";
import { describe, inject, it } from "vitest";
import { readDeb } from "../../deb/deb-reader.ts";
import { BATCH_MAX_BYTES, BATCH_MAX_FILE_BYTES, BATCH_MAX_FILES } from "../../schema/limits.ts";
import {
  addPackages,
  apt,
  blobKeyOf,
  bytesOf,
  call,
  createRepo,
  json,
  makeDeb,
  publish,
  sha256Hex,
  stubOf,
  type TestDeb,
  uniqueRepo,
  uploadDeb,
} from "../helpers/armor.ts";
import { fromBase64 } from "../helpers/bytes.ts";

interface Part {
  field: string;
  filename: string;
  bytes: Uint8Array;
}

interface Registered {
  packages: {
    package: { sha256: string; name: string; version: string; architecture: string; size: number };
    created: boolean;
  }[];
}

interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

const part = (deb: TestDeb, filename: string): Part => ({ field: deb.sha256, filename, bytes: deb.bytes });

/** The multipart body a client (curl -F, Node's FormData) sends, with its Content-Length. */
async function multipart(parts: Part[]): Promise<{ body: Uint8Array; type: string }> {
  const form = new FormData();
  for (const p of parts) form.append(p.field, new File([p.bytes], p.filename));
  const encoded = new Request("http://encode.invalid/", { method: "POST", body: form });
  return { body: new Uint8Array(await encoded.arrayBuffer()), type: encoded.headers.get("content-type") ?? "" };
}

async function batch(repo: string, parts: Part[], init: { auth?: string | null } = {}): Promise<Response> {
  const { body, type } = await multipart(parts);
  return call(`/api/v1/repositories/${repo}/blobs`, {
    method: "POST",
    body,
    headers: { "content-type": type, "content-length": String(body.length) },
    ...init,
  });
}

/** A batch of these files, each part named after its hash. */
const batchOf = (repo: string, debs: TestDeb[]) =>
  batch(
    repo,
    debs.map((d) => part(d, `${d.sha256}.deb`)),
  );

async function lookup(repo: string, sha256: unknown): Promise<Response> {
  return call(`/api/v1/repositories/${repo}/blobs/lookup`, { method: "POST", body: JSON.stringify({ sha256 }) });
}

/** Every object R2 holds for a repository: what "nothing stored" is checked against. */
async function storedKeys(repo: string): Promise<string[]> {
  const listed = await env.BLOBS.list({ prefix: `repos/${repo}/` });
  return listed.objects.map((o) => o.key).sort();
}

const keyOf = (repo: string, deb: TestDeb) => blobKeyOf(repo, deb.sha256);
const packKeyOf = (repo: string, pack: Uint8Array) => blobKeyOf(repo, sha256Hex(pack));

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

async function errorOf(res: Response): Promise<{ status: number } & ErrorBody["error"]> {
  const body = await json<ErrorBody>(res);
  return { status: res.status, ...body.error };
}

async function blobStatus(repo: string, deb: TestDeb): Promise<number> {
  const res = await call(`/api/v1/repositories/${repo}/blobs/${deb.sha256}`);
  await res.body?.cancel();
  return res.status;
}

function hostile(): { bytes: Uint8Array; sha256: string; code: string } {
  const first = inject("hostile")[0];
  if (first === undefined) throw new Error("no hostile fixtures");
  const bytes = fromBase64(first.base64);
  return { bytes, sha256: sha256Hex(bytes), code: first.code };
}

describe("POST …/blobs stores a batch of packages", () => {
  it("registers every file and stores its bytes, once, and answers in request order", async ({ expect }) => {
    const repo = uniqueRepo("batch");
    await createRepo(repo);
    const debs = [makeDeb("alpha", "1.0", "amd64"), makeDeb("beta", "2.0-1", "arm64"), makeDeb("gamma", "0.1", "all")];
    const [a, b, g] = debs as [TestDeb, TestDeb, TestDeb];
    // The same bytes twice in one batch are fine: stored once, the later copy reports created: false.
    const res = await batch(repo, [
      part(a, "alpha.deb"),
      part(b, "beta.deb"),
      part(g, "gamma.deb"),
      part(a, "again.deb"),
    ]);
    expect(res.status).toBe(201);
    const body = await json<Registered>(res);
    expect(body.packages).toEqual([
      {
        package: { sha256: a.sha256, name: "alpha", version: "1.0", architecture: "amd64", size: a.size },
        created: true,
      },
      {
        package: { sha256: b.sha256, name: "beta", version: "2.0-1", architecture: "arm64", size: b.size },
        created: true,
      },
      {
        package: { sha256: g.sha256, name: "gamma", version: "0.1", architecture: "all", size: g.size },
        created: true,
      },
      {
        package: { sha256: a.sha256, name: "alpha", version: "1.0", architecture: "amd64", size: a.size },
        created: false,
      },
    ]);
    // One R2 object: the three new files back to back, in request order, at the pack's SHA-256.
    const pack = concat(debs.map((d) => d.bytes));
    expect(await storedKeys(repo)).toEqual([await packKeyOf(repo, pack)]);
    const stored = await env.BLOBS.get(await packKeyOf(repo, pack));
    expect(stored === null ? null : new Uint8Array(await stored.arrayBuffer())).toEqual(pack);
    for (const d of debs) {
      const found = await call(`/api/v1/repositories/${repo}/blobs/${d.sha256}`);
      expect(found.status).toBe(200);
      expect((await json<{ package: { sha256: string } }>(found)).package.sha256).toBe(d.sha256);
    }

    // They are uploads like any other: they can be added to a dist and served from the pool.
    const add = await call(`/api/v1/repositories/${repo}/packages`, {
      method: "POST",
      body: JSON.stringify({ dist: "stable", packages: debs.map((d) => d.sha256) }),
    });
    expect(add.status).toBe(200);
    expect((await json<{ added: unknown[] }>(add)).added).toHaveLength(3);

    // Again: nothing new, 200, and nothing is written twice.
    const again = await batch(repo, [part(b, "beta.deb"), part(a, "alpha.deb")]);
    expect(again.status).toBe(200);
    expect((await json<Registered>(again)).packages.map((p) => [p.package.name, p.created])).toEqual([
      ["beta", false],
      ["alpha", false],
    ]);
    expect(await storedKeys(repo)).toEqual([await packKeyOf(repo, pack)]);
  });

  it("stores the one new file of a batch at its own address, not as a pack", async ({ expect }) => {
    const repo = uniqueRepo("mixed");
    await createRepo(repo);
    const old = makeDeb("old", "1.0", "amd64");
    const fresh = makeDeb("fresh", "1.0", "amd64");
    expect((await uploadDeb(repo, old)).status).toBe(201);
    const res = await batch(repo, [part(old, "old.deb"), part(fresh, "fresh.deb")]);
    expect(res.status).toBe(201);
    expect((await json<Registered>(res)).packages.map((p) => [p.package.name, p.created])).toEqual([
      ["old", false],
      ["fresh", true],
    ]);
    const stored = await env.BLOBS.get(await keyOf(repo, fresh));
    expect(stored === null ? null : await bytesOf(new Response(stored.body))).toEqual(fresh.bytes);
  });
});

describe("a batch's pack: served, checked and collected like any blob", () => {
  const adminOf = (repo: string, verb: string) => `/admin/v1/repositories/${repo}/${verb}`;
  const removeFromStable = (repo: string, name: string) =>
    call(`/api/v1/repositories/${repo}/packages/remove`, {
      method: "POST",
      body: JSON.stringify({ dist: "stable", name }),
    });
  const gc = async (repo: string) =>
    json<{ packages_deleted: number; blobs_deleted: number }>(
      await call(adminOf(repo, "gc"), { method: "POST", body: JSON.stringify({ grace_seconds: 0 }) }),
    );
  const fsck = async (repo: string) =>
    json<{ checked: number; problems: { sha256: string; kind: string; problem: string }[] }>(
      await call(adminOf(repo, "fsck"), { method: "POST" }),
    );

  it("serves each package from its range of the pack, with HEAD, Range and ETag", async ({ expect }) => {
    const repo = uniqueRepo("packed");
    await createRepo(repo);
    const names = ["one", "two", "three"];
    const debs = names.map((name) => makeDeb(name, "1.0", "amd64"));
    expect((await batchOf(repo, debs)).status).toBe(201);
    expect((await addPackages(repo, "stable", "main", debs)).status).toBe(200);
    await publish(repo, ["stable"]);
    for (const [i, d] of debs.entries()) {
      const name = names[i] ?? "";
      const path = `pool/main/${name[0]}/${name}/${name}_1.0_amd64.deb`;
      const res = await apt(repo, path);
      expect(res.status).toBe(200);
      expect(res.headers.get("etag")).toBe(`"${d.sha256}"`);
      expect(res.headers.get("content-length")).toBe(String(d.size));
      expect(await bytesOf(res)).toEqual(d.bytes);
      const head = await apt(repo, path, { method: "HEAD" });
      expect(head.status).toBe(200);
      expect(head.headers.get("content-length")).toBe(String(d.size));
      const ranged = await apt(repo, path, { headers: { range: "bytes=8-71" } });
      expect(ranged.status).toBe(206);
      expect(ranged.headers.get("content-range")).toBe(`bytes 8-71/${d.size}`);
      expect(await bytesOf(ranged)).toEqual(d.bytes.subarray(8, 72));
    }
    const checked = await fsck(repo);
    expect(checked.problems).toEqual([]);
    expect(checked.checked).toBeGreaterThan(0);
  });

  it("keeps a pack while any package in it is needed, and collects it with the last", async ({ expect }) => {
    const repo = uniqueRepo("pack-gc");
    await createRepo(repo, { retention_days: 0 });
    const kept = makeDeb("kept", "1.0", "amd64");
    const dropped = makeDeb("dropped", "1.0", "amd64");
    const pack = concat([kept.bytes, dropped.bytes]);
    expect((await batch(repo, [part(kept, "kept.deb"), part(dropped, "dropped.deb")])).status).toBe(201);
    expect((await addPackages(repo, "stable", "main", [kept, dropped])).status).toBe(200);
    await publish(repo, ["stable"]);

    // One of its two packages leaves every release: the package goes, the pack stays for the other.
    expect((await removeFromStable(repo, "dropped")).status).toBe(200);
    await publish(repo, ["stable"]);
    expect(await gc(repo)).toMatchObject({ packages_deleted: 1 });
    expect(await env.BLOBS.head(await packKeyOf(repo, pack))).not.toBeNull();
    const served = await apt(repo, "pool/main/k/kept/kept_1.0_amd64.deb");
    expect(await bytesOf(served)).toEqual(kept.bytes);
    expect((await fsck(repo)).problems).toEqual([]);

    // The last one goes too: so does the pack.
    expect((await removeFromStable(repo, "kept")).status).toBe(200);
    await publish(repo, ["stable"]);
    expect(await gc(repo)).toMatchObject({ packages_deleted: 1 });
    expect(await env.BLOBS.head(await packKeyOf(repo, pack))).toBeNull();
    expect((await fsck(repo)).problems).toEqual([]);
  });

  it("fsck names a pack that is missing or shorter than its packages need", async ({ expect }) => {
    const repo = uniqueRepo("pack-fsck");
    await createRepo(repo);
    const debs = [makeDeb("left", "1.0", "amd64"), makeDeb("right", "1.0", "amd64")];
    const pack = concat(debs.map((d) => d.bytes));
    const packHash = sha256Hex(pack);
    expect((await batchOf(repo, debs)).status).toBe(201);
    expect((await fsck(repo)).problems).toEqual([]);

    await env.BLOBS.put(await packKeyOf(repo, pack), pack.subarray(0, pack.length - 1));
    expect((await fsck(repo)).problems).toEqual([
      { sha256: packHash, kind: "pack", problem: `size ${pack.length - 1}, expected at least ${pack.length}` },
    ]);
    await env.BLOBS.delete(await packKeyOf(repo, pack));
    expect((await fsck(repo)).problems).toEqual([{ sha256: packHash, kind: "pack", problem: "missing" }]);
  });
});

describe("POST …/blobs refuses a bad batch whole, before storing anything", () => {
  it("refuses an invalid package, naming the file, and stores none of the valid ones", async ({ expect }) => {
    const repo = uniqueRepo("invalid");
    await createRepo(repo);
    const good = [makeDeb("one", "1.0", "amd64"), makeDeb("two", "1.0", "amd64")];
    const bad = hostile();
    const res = await batch(repo, [
      part(good[0] as TestDeb, "one.deb"),
      { field: bad.sha256, filename: "broken_1.0_amd64.deb", bytes: bad.bytes },
      part(good[1] as TestDeb, "two.deb"),
    ]);
    const err = await errorOf(res);
    expect(err).toMatchObject({
      status: 400,
      code: "invalid_package",
      details: { file: "broken_1.0_amd64.deb", sha256: bad.sha256, reason: bad.code },
    });
    expect(err.message).toMatch(/^broken_1\.0_amd64\.deb: not a valid Debian package: /);
    expect(await storedKeys(repo)).toEqual([]);
    for (const d of good) expect(await blobStatus(repo, d)).toBe(404);
  });

  it("refuses a file whose SHA-256 is not its field name", async ({ expect }) => {
    const repo = uniqueRepo("mismatch");
    await createRepo(repo);
    const good = makeDeb("good", "1.0", "amd64");
    const liar = makeDeb("liar", "1.0", "amd64");
    const declared = good.sha256.replace(/^./, (c) => (c === "0" ? "1" : "0"));
    const res = await batch(repo, [
      part(good, "good.deb"),
      { field: declared, filename: "liar.deb", bytes: liar.bytes },
    ]);
    const err = await errorOf(res);
    expect(err).toMatchObject({
      status: 400,
      code: "hash_mismatch",
      details: { file: "liar.deb", declared, actual: liar.sha256 },
    });
    expect(err.message).toContain("liar.deb");
    expect(await storedKeys(repo)).toEqual([]);
    expect(await blobStatus(repo, good)).toBe(404);
  });

  it("refuses a version bound to other content, naming the file, and stores nothing of the batch", async ({
    expect,
  }) => {
    const repo = uniqueRepo("conflict");
    await createRepo(repo);
    const first = makeDeb("hello", "1.0", "amd64");
    const rebuilt = makeDeb("hello", "1.0", "amd64", { Section: "utils" });
    const other = makeDeb("other", "1.0", "amd64");
    expect((await uploadDeb(repo, first)).status).toBe(201);
    const res = await batch(repo, [part(other, "other.deb"), part(rebuilt, "hello_1.0_amd64.deb")]);
    const err = await errorOf(res);
    expect(err).toMatchObject({
      status: 409,
      code: "version_exists",
      details: {
        file: "hello_1.0_amd64.deb",
        sha256: rebuilt.sha256,
        name: "hello",
        version: "1.0",
        architecture: "amd64",
        existing_sha256: first.sha256,
      },
    });
    expect(err.message).toMatch(/^hello_1\.0_amd64\.deb: hello 1\.0 \(amd64\) already exists/);
    expect(await storedKeys(repo)).toEqual([await keyOf(repo, first)]);
    expect(await blobStatus(repo, other)).toBe(404);
  });

  it("refuses two different files of one version in a batch, even where versions may be reused", async ({ expect }) => {
    for (const may_reuse_versions of [false, true]) {
      const repo = uniqueRepo("twins");
      await createRepo(repo, { may_reuse_versions });
      const a = makeDeb("twin", "1.0", "amd64");
      const b = makeDeb("twin", "1.0", "amd64", { Section: "utils" });
      const err = await errorOf(await batch(repo, [part(a, "a.deb"), part(b, "b.deb")]));
      expect(err).toMatchObject({
        status: 400,
        code: "invalid_request",
        details: { file: "b.deb", other_file: "a.deb", name: "twin", version: "1.0", architecture: "amd64" },
      });
      expect(err.message).toContain("a.deb and b.deb are both twin 1.0 (amd64)");
      expect(await storedKeys(repo)).toEqual([]);
    }
  });

  it("refuses requests outside the limits and malformed ones with the code that says why", async ({ expect }) => {
    const repo = uniqueRepo("limits");
    await createRepo(repo);
    const deb = makeDeb("small", "1.0", "amd64");
    const path = `/api/v1/repositories/${repo}/blobs`;
    const { body, type } = await multipart([part(deb, "small.deb")]);

    const tooMany = Array.from({ length: BATCH_MAX_FILES + 1 }, () => part(deb, "small.deb"));
    expect(await errorOf(await batch(repo, tooMany))).toMatchObject({
      status: 400,
      code: "invalid_request",
      message: `a batch holds at most ${BATCH_MAX_FILES} files; this one has ${BATCH_MAX_FILES + 1}`,
    });

    const large = await errorOf(
      await call(path, {
        method: "POST",
        body: new ReadableStream({
          start(c) {
            c.enqueue(body);
            c.close();
          },
        }),
        headers: { "content-type": type, "content-length": String(BATCH_MAX_BYTES + 1) },
        duplex: "half",
      } as RequestInit),
    );
    expect(large).toMatchObject({ status: 413, code: "body_too_large" });
    expect(large.message).toContain("send fewer files per batch");

    const bigFile = new Uint8Array(BATCH_MAX_FILE_BYTES + 1);
    const oversized = await errorOf(
      await batch(repo, [part(deb, "small.deb"), { field: sha256Hex(bigFile), filename: "big.deb", bytes: bigFile }]),
    );
    expect(oversized).toMatchObject({
      status: 413,
      code: "body_too_large",
      details: { file: "big.deb", size: BATCH_MAX_FILE_BYTES + 1, limit: BATCH_MAX_FILE_BYTES },
    });
    expect(oversized.message).toContain("upload it alone");

    const unsized = await call(path, {
      method: "POST",
      body: new ReadableStream({
        start(c) {
          c.enqueue(body);
          c.close();
        },
      }),
      headers: { "content-type": type },
      duplex: "half",
    } as RequestInit);
    expect(await errorOf(unsized)).toMatchObject({ status: 411, code: "length_required" });

    const raw = await call(path, {
      method: "POST",
      body: deb.bytes,
      headers: { "content-type": "application/vnd.debian.binary-package", "content-length": String(deb.size) },
    });
    const rawErr = await errorOf(raw);
    expect(rawErr).toMatchObject({ status: 400, code: "invalid_request" });
    expect(rawErr.message).toContain("multipart/form-data");

    const garbage = new TextEncoder().encode("this is not multipart at all");
    const unparsable = await call(path, {
      method: "POST",
      body: garbage,
      headers: { "content-type": "multipart/form-data; boundary=xyz", "content-length": String(garbage.length) },
    });
    expect(await errorOf(unparsable)).toMatchObject({
      status: 400,
      code: "invalid_request",
      message: "the body is not valid multipart/form-data",
    });

    const badName = await errorOf(await batch(repo, [{ field: "hello.deb", filename: "hello.deb", bytes: deb.bytes }]));
    expect(badName).toMatchObject({ status: 400, code: "invalid_request", details: { field: "hello.deb" } });
    expect(badName.message).toContain("the field name must be the file's SHA-256");

    const form = new FormData();
    form.append(deb.sha256, "not a file");
    const encoded = new Request("http://encode.invalid/", { method: "POST", body: form });
    const fieldBody = new Uint8Array(await encoded.arrayBuffer());
    const plainField = await errorOf(
      await call(path, {
        method: "POST",
        body: fieldBody,
        headers: {
          "content-type": encoded.headers.get("content-type") ?? "",
          "content-length": String(fieldBody.length),
        },
      }),
    );
    expect(plainField).toMatchObject({ status: 400, code: "invalid_request", details: { field: deb.sha256 } });
    expect(plainField.message).toContain("as a file part");

    const empty = await errorOf(await batch(repo, []));
    expect(empty).toMatchObject({ status: 400, code: "invalid_request" });
    expect(empty.message).toContain("the batch holds no files");

    expect(await storedKeys(repo)).toEqual([]);
  });

  it("needs write access, as the other upload routes do", async ({ expect }) => {
    const repo = uniqueRepo("auth");
    await createRepo(repo);
    const deb = makeDeb("secret", "1.0", "amd64");
    const anonymous = await batch(repo, [part(deb, "secret.deb")], { auth: null });
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get("www-authenticate")).toContain("Basic");
    expect((await json<ErrorBody>(anonymous)).error.code).toBe("unauthorized");
    const wrong = await batch(repo, [part(deb, "secret.deb")], { auth: "not-the-token" });
    expect(wrong.status).toBe(403);
    expect((await json<ErrorBody>(wrong)).error.code).toBe("forbidden");
    const look = await call(`/api/v1/repositories/${repo}/blobs/lookup`, {
      method: "POST",
      body: JSON.stringify({ sha256: [deb.sha256] }),
      auth: null,
    });
    expect(look.status).toBe(401);
    expect(await storedKeys(repo)).toEqual([]);
  });
});

describe("the object's batch registration", () => {
  it("registers all of a batch or none of it", async ({ expect }) => {
    const repo = uniqueRepo("atomic");
    await createRepo(repo);
    const stub = await stubOf(repo);
    const parsed = async (deb: TestDeb, file: string) => {
      const info = await readDeb(new Response(deb.bytes).body ?? new ReadableStream());
      if (!info.ok) throw new Error(info.error.message);
      return { file, control: info.value.control, hashes: info.value.hashes };
    };
    const bound = makeDeb("bound", "1.0", "amd64");
    expect((await uploadDeb(repo, bound)).status).toBe(201);
    const fresh = await parsed(makeDeb("fresh", "1.0", "amd64"), "fresh.deb");
    const rival = await parsed(makeDeb("bound", "1.0", "amd64", { Section: "utils" }), "rival.deb");
    // As when another upload binds a version between the Worker's check and its registration.
    const refused = await stub.registerPackages([fresh, rival]);
    expect(refused).toMatchObject({ ok: false, error: { code: "version_exists", details: { file: "rival.deb" } } });
    expect(await stub.findPackages([fresh.hashes.sha256])).toEqual({
      ok: true,
      value: { [fresh.hashes.sha256]: null },
    });

    const done = await stub.registerPackages([fresh, fresh]);
    expect(done).toMatchObject({
      ok: true,
      value: {
        packages: [
          { package: { name: "fresh" }, created: true },
          { package: { name: "fresh" }, created: false },
        ],
      },
    });
  });
});

describe("POST …/blobs/lookup", () => {
  it("answers which packages the repository has", async ({ expect }) => {
    const repo = uniqueRepo("lookup");
    await createRepo(repo);
    const present = makeDeb("present", "1.0", "amd64");
    const missing = makeDeb("missing", "1.0", "amd64");
    expect((await uploadDeb(repo, present)).status).toBe(201);
    const res = await lookup(repo, [present.sha256, missing.sha256, present.sha256]);
    expect(res.status).toBe(200);
    expect(await json(res)).toEqual({
      packages: {
        [present.sha256]: {
          sha256: present.sha256,
          name: "present",
          version: "1.0",
          architecture: "amd64",
          size: present.size,
        },
        [missing.sha256]: null,
      },
    });
  });

  it("refuses what is not a list of at most 1000 SHA-256s", async ({ expect }) => {
    const repo = uniqueRepo("lookupbad");
    await createRepo(repo);
    const bad = await errorOf(await lookup(repo, ["not-a-hash"]));
    expect(bad).toMatchObject({ status: 400, code: "invalid_request" });
    expect(bad.message).toContain("body.sha256.0");
    expect(await errorOf(await lookup(repo, []))).toMatchObject({ status: 400, code: "invalid_request" });
    expect(
      await errorOf(
        await lookup(
          repo,
          Array.from({ length: 1001 }, () => "a".repeat(64)),
        ),
      ),
    ).toMatchObject({
      status: 400,
      code: "invalid_request",
    });
  });
});
