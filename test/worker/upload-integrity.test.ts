/**
 * An uploader can never make a published file disappear (DESIGN.md §4b): a request that fails
 * deletes or overwrites nothing it did not create itself, and content reaches its address only
 * once it is verified. Each test aims a failing upload at the address of something the repository
 * serves (a signature, an index, a package) and then checks what apt and fsck would: the same
 * bytes under the same ETag, and no problems. fsck matters here: apt's answers for a file it has
 * fetched before may come from the edge cache, while fsck reads R2 itself.
 */
import { env } from "cloudflare:workers";
import { afterEach, describe, it, vi } from "vitest";
import { RepositoryObject } from "../../objects/repository/repository-object.ts";
import { SINGLE_UPLOAD_LIMIT } from "../../schema/limits.ts";
import { storeDeb } from "../../worker/upload.ts";
import {
  addPackages,
  apt,
  bytesOf,
  call,
  createRepo,
  json,
  makeDeb,
  publish,
  push,
  scopeOf,
  type TestDeb,
  uniqueRepo,
  uploadDeb,
} from "../helpers/armor.ts";

interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

async function errorOf(res: Response): Promise<{ status: number } & ErrorBody["error"]> {
  const body = await json<ErrorBody>(res);
  return { status: res.status, ...body.error };
}

/** What apt gets for a path: status, ETag and bytes. */
async function served(repo: string, path: string): Promise<{ status: number; etag: string | null; bytes: Uint8Array }> {
  const res = await apt(repo, path);
  return { status: res.status, etag: res.headers.get("etag"), bytes: await bytesOf(res) };
}

/** The SHA-256 a served file is stored under: its ETag (DESIGN.md §5). */
function addressOf(file: { etag: string | null }): string {
  const sha256 = /^"([0-9a-f]{64})"$/.exec(file.etag ?? "")?.[1];
  if (sha256 === undefined) throw new Error(`not a content ETag: ${file.etag}`);
  return sha256;
}

async function fsck(repo: string): Promise<{ checked: number; problems: unknown[] }> {
  return json(await call(`/admin/v1/repositories/${repo}/fsck`, { method: "POST" }));
}

/** A repository with one package published in stable/main. */
async function published(prefix: string): Promise<{ repo: string; deb: TestDeb }> {
  const repo = uniqueRepo(prefix);
  await createRepo(repo);
  const deb = makeDeb("hello", "1.0", "amd64");
  await push(repo, "stable", "main", [deb]);
  await publish(repo, ["stable"]);
  return { repo, deb };
}

const POOL = "pool/main/h/hello/hello_1.0_amd64.deb";
const PACKAGES = "dists/stable/main/binary-amd64/Packages";

function put(repo: string, sha256: string, body: BodyInit, length: number): Promise<Response> {
  return call(`/api/v1/repositories/${repo}/blobs/${sha256}`, {
    method: "PUT",
    body,
    headers: { "content-length": String(length) },
    duplex: "half",
  } as RequestInit);
}

/** Start a multipart upload and send `bytes` as its one part; returns what `complete` needs. */
async function multipartOf(
  repo: string,
  sha256: string,
  bytes: Uint8Array,
): Promise<{ upload_id: string; parts: { part_number: number; etag: string }[] }> {
  const start = await call(`/api/v1/repositories/${repo}/uploads`, {
    method: "POST",
    body: JSON.stringify({ sha256, size: bytes.length }),
  });
  if (start.status !== 201) throw new Error(`starting a multipart upload: ${start.status} ${await start.text()}`);
  const { upload_id } = await json<{ upload_id: string }>(start);
  const part = await call(
    `/api/v1/repositories/${repo}/uploads/${sha256}/parts/1?upload_id=${encodeURIComponent(upload_id)}`,
    { method: "PUT", body: bytes, headers: { "content-length": String(bytes.length) } },
  );
  if (part.status !== 200) throw new Error(`uploading a part: ${part.status} ${await part.text()}`);
  return { upload_id, parts: [await json<{ part_number: number; etag: string }>(part)] };
}

function complete(repo: string, sha256: string, upload: { upload_id: string; parts: unknown[] }): Promise<Response> {
  return call(`/api/v1/repositories/${repo}/uploads/${sha256}/complete`, {
    method: "POST",
    body: JSON.stringify(upload),
  });
}

/** The same bytes with one byte changed near the end (inside data.tar, which the parser passes over). */
function corrupted(bytes: Uint8Array): Uint8Array {
  const copy = bytes.slice();
  const at = copy.length - 20;
  copy[at] = (copy[at] ?? 0) ^ 0xff;
  return copy;
}

/** A batch upload (POST …/blobs) of these files, each part named by its SHA-256. */
async function batchOf(repo: string, debs: TestDeb[]): Promise<Response> {
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

const junk = new TextEncoder().encode("this is not a Debian package, and not the file it claims to be\n");

afterEach(() => {
  vi.restoreAllMocks();
});

describe("a refused single upload (PUT …/blobs/{sha256}) leaves published files alone", () => {
  it("keeps serving Release.gpg after junk, its own bytes and a short body are sent under its SHA-256", async ({
    expect,
  }) => {
    const { repo } = await published("sig-address");
    const before = await served(repo, "dists/stable/Release.gpg");
    expect(before.status).toBe(200);
    const sha256 = addressOf(before);

    expect(await errorOf(await put(repo, sha256, junk, junk.length))).toMatchObject({
      status: 400,
      code: "invalid_package",
    });
    // The right bytes under the right hash: still not a package, still refused, still nothing removed.
    expect(await errorOf(await put(repo, sha256, before.bytes, before.bytes.length))).toMatchObject({
      status: 400,
      code: "invalid_package",
    });
    const short = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(before.bytes.subarray(0, 10));
        c.close();
      },
    });
    expect(await errorOf(await put(repo, sha256, short, before.bytes.length))).toMatchObject({ status: 400 });

    const after = await served(repo, "dists/stable/Release.gpg");
    expect(after).toEqual(before);
    expect((await fsck(repo)).problems).toEqual([]);
  });

  it("keeps serving a package after a corrupt copy of it is refused", async ({ expect }) => {
    const { repo, deb } = await published("pool-address");
    const before = await served(repo, POOL);
    // The repository has the package, so the body is never read: answered from what is stored.
    const again = await put(repo, deb.sha256, corrupted(deb.bytes), deb.size);
    expect(again.status).toBe(200);
    expect(await served(repo, POOL)).toEqual(before);
    expect((await fsck(repo)).problems).toEqual([]);
  });
});

describe("a refused multipart upload leaves published files alone", () => {
  it("keeps serving the Packages index after parts of junk, or of its own bytes, are completed under its SHA-256", async ({
    expect,
  }) => {
    const { repo } = await published("index-address");
    const before = await served(repo, PACKAGES);
    expect(before.status).toBe(200);
    const sha256 = addressOf(before);

    const junkUpload = await multipartOf(repo, sha256, junk);
    expect(await errorOf(await complete(repo, sha256, junkUpload))).toMatchObject({
      status: 400,
      code: "invalid_package",
    });
    expect(await served(repo, PACKAGES)).toEqual(before);

    const ownBytes = await multipartOf(repo, sha256, before.bytes);
    expect(await errorOf(await complete(repo, sha256, ownBytes))).toMatchObject({
      status: 400,
      code: "invalid_package",
    });
    expect(await served(repo, PACKAGES)).toEqual(before);

    // Started and aborted: the abort touches only the upload's own staging.
    const aborted = await multipartOf(repo, sha256, junk);
    const abort = await call(
      `/api/v1/repositories/${repo}/uploads/${sha256}?upload_id=${encodeURIComponent(aborted.upload_id)}`,
      { method: "DELETE" },
    );
    expect(abort.status).toBe(204);

    expect(await served(repo, PACKAGES)).toEqual(before);
    expect(await served(repo, "dists/stable/Release")).toMatchObject({ status: 200 });
    expect((await fsck(repo)).problems).toEqual([]);
    // Nothing of the refused uploads is left outside the blobs: their staging objects are gone.
    const staging = await env.BLOBS.list({ prefix: `repos/${await scopeOf(repo)}/uploads/` });
    expect(staging.objects).toEqual([]);
  });
});

describe("a corrupt copy racing a good upload of the same .deb", () => {
  it("single uploads: the good one's file is served afterwards", async ({ expect }) => {
    const repo = uniqueRepo("race-put");
    await createRepo(repo);
    const deb = makeDeb("hello", "1.0", "amd64");
    const bad = corrupted(deb.bytes);
    let goodAnswered: () => void = () => undefined;
    const goodDone = new Promise<void>((resolve) => {
      goodAnswered = resolve;
    });
    // The corrupt copy starts first and finishes last: its first half is sent at once, the rest
    // only after the good upload has been answered.
    let sent = 0;
    const slow = new ReadableStream<Uint8Array>({
      async pull(c) {
        if (sent === 0) {
          sent = 1;
          c.enqueue(bad.slice(0, 400));
          return;
        }
        await goodDone;
        c.enqueue(bad.slice(400));
        c.close();
      },
    });
    const [corrupt, good] = await Promise.all([
      put(repo, deb.sha256, slow, deb.size),
      uploadDeb(repo, deb).then((res) => {
        goodAnswered();
        return res;
      }),
    ]);
    expect(good.status).toBe(201);
    expect(await errorOf(corrupt)).toMatchObject({ status: 400, code: "hash_mismatch" });

    expect((await addPackages(repo, "stable", "main", [deb])).status).toBe(200);
    await publish(repo, ["stable"]);
    const pool = await served(repo, POOL);
    expect(pool.status).toBe(200);
    expect(pool.bytes).toEqual(deb.bytes);
    expect(pool.etag).toBe(`"${deb.sha256}"`);
    expect((await fsck(repo)).problems).toEqual([]);
  });

  it("a corrupt multipart upload completed after a good single upload: the good one's file is served", async ({
    expect,
  }) => {
    const repo = uniqueRepo("race-multipart");
    await createRepo(repo);
    const deb = makeDeb("hello", "1.0", "amd64");
    // Started while the repository does not have the package yet, completed after it does.
    const upload = await multipartOf(repo, deb.sha256, corrupted(deb.bytes));
    expect((await uploadDeb(repo, deb)).status).toBe(201);
    expect(await errorOf(await complete(repo, deb.sha256, upload))).toMatchObject({
      status: 400,
      code: "hash_mismatch",
    });

    expect((await addPackages(repo, "stable", "main", [deb])).status).toBe(200);
    await publish(repo, ["stable"]);
    const pool = await served(repo, POOL);
    expect(pool.status).toBe(200);
    expect(pool.bytes).toEqual(deb.bytes);
    expect((await fsck(repo)).problems).toEqual([]);
  });

  it("a failed registration does not take the blob from a good upload of the same bytes", async ({ expect }) => {
    const repo = uniqueRepo("race-register");
    await createRepo(repo);
    const deb = makeDeb("hello", "1.0", "amd64");
    // The object call fails for whichever upload registers first (as a call to a Durable Object
    // that is being reset can), once the other has stored or found the blob and is about to
    // register; that one goes ahead only once the failed request has been answered.
    const register = RepositoryObject.prototype.registerPackage;
    let arrived: () => void = () => undefined;
    const secondArrived = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    let answered: () => void = () => undefined;
    const firstAnswered = new Promise<void>((resolve) => {
      answered = resolve;
    });
    let calls = 0;
    vi.spyOn(RepositoryObject.prototype, "registerPackage").mockImplementation(async function (
      this: RepositoryObject,
      upload,
    ) {
      calls += 1;
      if (calls === 1) {
        await secondArrived;
        throw new Error("simulated: the object call failed");
      }
      arrived();
      await firstAnswered;
      return register.call(this, upload);
    });
    const statuses = await Promise.all(
      [0, 1].map(async () => {
        const res = await uploadDeb(repo, deb);
        answered();
        await res.body?.cancel();
        return res.status;
      }),
    );
    expect(statuses.sort()).toEqual([201, 500]);

    expect((await addPackages(repo, "stable", "main", [deb])).status).toBe(200);
    await publish(repo, ["stable"]);
    const pool = await served(repo, POOL);
    expect(pool.status).toBe(200);
    expect(pool.bytes).toEqual(deb.bytes);
    expect((await fsck(repo)).problems).toEqual([]);
  });

  it("a failed batch registration does not take the blob from a good batch of the same bytes", async ({ expect }) => {
    const repo = uniqueRepo("race-batch");
    await createRepo(repo);
    const deb = makeDeb("hello", "1.0", "amd64");
    // The first batch stores the file and its registration fails (a failed object call); the
    // second starts only then, finds the file stored, and registers once the first was answered.
    const register = RepositoryObject.prototype.registerPackages;
    let firstArrived: () => void = () => undefined;
    const first = new Promise<void>((resolve) => {
      firstArrived = resolve;
    });
    let secondArrived: () => void = () => undefined;
    const second = new Promise<void>((resolve) => {
      secondArrived = resolve;
    });
    let answered: () => void = () => undefined;
    const firstAnswered = new Promise<void>((resolve) => {
      answered = resolve;
    });
    let calls = 0;
    vi.spyOn(RepositoryObject.prototype, "registerPackages").mockImplementation(async function (
      this: RepositoryObject,
      uploads,
    ) {
      calls += 1;
      if (calls === 1) {
        firstArrived();
        await second;
        throw new Error("simulated: the object call failed");
      }
      secondArrived();
      await firstAnswered;
      return register.call(this, uploads);
    });
    const failing = batchOf(repo, [deb]).then((res) => {
      answered();
      return res;
    });
    await first;
    const [failed, good] = await Promise.all([failing, batchOf(repo, [deb])]);
    expect(failed.status).toBe(500);
    expect(good.status).toBe(201);

    expect((await addPackages(repo, "stable", "main", [deb])).status).toBe(200);
    await publish(repo, ["stable"]);
    const pool = await served(repo, POOL);
    expect(pool.status).toBe(200);
    expect(pool.bytes).toEqual(deb.bytes);
    expect((await fsck(repo)).problems).toEqual([]);
  });
});

describe("multipart uploads are assembled apart from the blobs", () => {
  it("refuses a version bound to other content, storing nothing and leaving no staging behind", async ({ expect }) => {
    const { repo, deb } = await published("multipart-conflict");
    const rebuilt = makeDeb("hello", "1.0", "amd64", { Section: "utils" });
    const upload = await multipartOf(repo, rebuilt.sha256, rebuilt.bytes);
    expect(await errorOf(await complete(repo, rebuilt.sha256, upload))).toMatchObject({
      status: 409,
      code: "version_exists",
      details: { existing_sha256: deb.sha256 },
    });
    expect(await env.BLOBS.head(`repos/${await scopeOf(repo)}/blobs/sha256/${rebuilt.sha256}`)).toBeNull();
    expect((await env.BLOBS.list({ prefix: `repos/${await scopeOf(repo)}/uploads/` })).objects).toEqual([]);
    expect((await fsck(repo)).problems).toEqual([]);
  });

  it("refuses parts that add up to another size than the one declared", async ({ expect }) => {
    const repo = uniqueRepo("multipart-size");
    await createRepo(repo);
    const deb = makeDeb("hello", "1.0", "amd64");
    const start = await call(`/api/v1/repositories/${repo}/uploads`, {
      method: "POST",
      body: JSON.stringify({ sha256: deb.sha256, size: deb.size + 1 }),
    });
    const { upload_id } = await json<{ upload_id: string }>(start);
    const part = await call(
      `/api/v1/repositories/${repo}/uploads/${deb.sha256}/parts/1?upload_id=${encodeURIComponent(upload_id)}`,
      { method: "PUT", body: deb.bytes, headers: { "content-length": String(deb.size) } },
    );
    const parts = [await json<{ part_number: number; etag: string }>(part)];
    expect(await errorOf(await complete(repo, deb.sha256, { upload_id, parts }))).toMatchObject({
      status: 400,
      code: "size_mismatch",
      details: { declared: deb.size + 1, received: deb.size },
    });
    expect(await env.BLOBS.list({ prefix: `repos/${repo}/` }).then((l) => l.objects)).toEqual([]);
  });

  it("answers an upload_id it never issued with upload_not_found, and a missing one with invalid_request", async ({
    expect,
  }) => {
    const repo = uniqueRepo("upload-id");
    await createRepo(repo);
    const deb = makeDeb("hello", "1.0", "amd64");
    const base = `/api/v1/repositories/${repo}/uploads/${deb.sha256}`;
    const { upload_id } = await multipartOf(repo, deb.sha256, deb.bytes);
    const [nonce, r2Id] = [upload_id.slice(0, upload_id.indexOf(".")), upload_id.slice(upload_id.indexOf(".") + 1)];
    expect(nonce).toMatch(/^[0-9a-f]{32}$/);
    const foreign = [r2Id, "not-an-upload", `${"0".repeat(32)}.${r2Id}`, `${nonce}.`];
    for (const id of foreign) {
      const q = `?upload_id=${encodeURIComponent(id)}`;
      const part = await call(`${base}/parts/1${q}`, {
        method: "PUT",
        body: deb.bytes,
        headers: { "content-length": String(deb.size) },
      });
      expect(await errorOf(part), id).toMatchObject({ status: 404, code: "upload_not_found" });
      const done = await complete(repo, deb.sha256, { upload_id: id, parts: [{ part_number: 1, etag: "x" }] });
      expect(await errorOf(done), id).toMatchObject({ status: 404, code: "upload_not_found" });
      expect(await errorOf(await call(`${base}${q}`, { method: "DELETE" })), id).toMatchObject({
        status: 404,
        code: "upload_not_found",
      });
    }
    expect(await errorOf(await call(`${base}/parts/1`, { method: "PUT", body: deb.bytes }))).toMatchObject({
      status: 400,
      code: "invalid_request",
    });
    expect(await errorOf(await call(base, { method: "DELETE" }))).toMatchObject({
      status: 400,
      code: "invalid_request",
    });
    // The genuine id still works after all that.
    const upload = await multipartOf(repo, deb.sha256, deb.bytes);
    expect((await complete(repo, deb.sha256, upload)).status).toBe(201);
  });

  it("refuses a part above the limit from its Content-Length", async ({ expect }) => {
    const repo = uniqueRepo("part-limit");
    await createRepo(repo);
    const deb = makeDeb("hello", "1.0", "amd64");
    const { upload_id } = await multipartOf(repo, deb.sha256, deb.bytes);
    const res = await call(
      `/api/v1/repositories/${repo}/uploads/${deb.sha256}/parts/2?upload_id=${encodeURIComponent(upload_id)}`,
      {
        method: "PUT",
        body: new ReadableStream({
          start(c) {
            c.enqueue(new Uint8Array(16));
            c.close();
          },
        }),
        headers: { "content-length": String(SINGLE_UPLOAD_LIMIT + 1) },
        duplex: "half",
      } as RequestInit,
    );
    expect(await errorOf(res)).toMatchObject({
      status: 413,
      code: "body_too_large",
      details: { size: SINGLE_UPLOAD_LIMIT + 1, limit: SINGLE_UPLOAD_LIMIT },
    });
  });

  it("refuses a part whose body is shorter or longer than its Content-Length with size_mismatch", async ({
    expect,
  }) => {
    const repo = uniqueRepo("part-length");
    await createRepo(repo);
    const deb = makeDeb("hello", "1.0", "amd64");
    const { upload_id } = await multipartOf(repo, deb.sha256, deb.bytes);
    const partPath = `/api/v1/repositories/${repo}/uploads/${deb.sha256}/parts/2?upload_id=${encodeURIComponent(upload_id)}`;
    const streamOf = (bytes: Uint8Array) =>
      new ReadableStream<Uint8Array>({
        start(c) {
          c.enqueue(bytes);
          c.close();
        },
      });
    const send = (bytes: Uint8Array, declared: number) =>
      call(partPath, {
        method: "PUT",
        body: streamOf(bytes),
        headers: { "content-length": String(declared) },
        duplex: "half",
      } as RequestInit);
    expect(await errorOf(await send(deb.bytes.slice(0, 100), deb.size))).toMatchObject({
      status: 400,
      code: "size_mismatch",
      details: { declared: deb.size, received: 100 },
    });
    expect(await errorOf(await send(deb.bytes, 100))).toMatchObject({ status: 400, code: "size_mismatch" });
  });

  it("gc removes a staging object its completing request left behind, and nothing published", async ({ expect }) => {
    const { repo } = await published("staging-gc");
    const before = await served(repo, PACKAGES);
    const leftover = `repos/${await scopeOf(repo)}/uploads/${"a".repeat(64)}/${"0".repeat(32)}`;
    await env.BLOBS.put(leftover, junk);
    const swept = await json<{ blobs_deleted: number }>(
      await call(`/admin/v1/repositories/${repo}/gc`, { method: "POST", body: JSON.stringify({ grace_seconds: 0 }) }),
    );
    expect(swept.blobs_deleted).toBe(1);
    expect(await env.BLOBS.head(leftover)).toBeNull();
    expect(await served(repo, PACKAGES)).toEqual(before);
    expect((await fsck(repo)).problems).toEqual([]);
  });
});

describe("a request body that fails while it is read", () => {
  it("is refused as size_mismatch, and stores nothing", async ({ expect }) => {
    // Over a real connection the runtime fails the read when the client goes away before
    // Content-Length bytes came; through exports.default.fetch a stream that errors arrives as a
    // short body instead, so this hands storeDeb such a stream directly.
    const repo = uniqueRepo("read-error");
    await createRepo(repo);
    const deb = makeDeb("hello", "1.0", "amd64");
    let sent = false;
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        if (sent) {
          c.error(new TypeError("Can't read from request stream because client disconnected."));
          return;
        }
        sent = true;
        c.enqueue(deb.bytes.slice(0, 300));
      },
    });
    const admit = async () => ({ ok: true as const, value: null });
    const stored = await storeDeb(env.BLOBS, await scopeOf(repo), deb, body, { source: "request", admit });
    expect(stored).toMatchObject({
      ok: false,
      error: { code: "size_mismatch", details: { declared: deb.size, received: 300 } },
    });
    expect(await env.BLOBS.head(`repos/${await scopeOf(repo)}/blobs/sha256/${deb.sha256}`)).toBeNull();
  });
});
