/**
 * Uploads and package membership, below /api/v1/repositories/:owner/:name:
 *
 *   GET  /blobs/:sha256                 does this repository have this package? (HEAD works too)
 *   POST /blobs/lookup                  the same for many: {sha256: [...]} (≤ 1000) → {packages: {sha256: summary | null}}
 *   PUT  /blobs/:sha256                 upload a .deb (Content-Length required, ≤ 100 MB)
 *   POST /blobs                         upload a batch of small .debs: multipart/form-data, one file part per
 *                                       .deb named by its SHA-256 (curl -F "$sha256=@pkg.deb"); Content-Length
 *                                       required, ≤ 1000 files, ≤ 32 MiB in all, ≤ 8 MiB each; all or nothing
 *                                       → {packages: [{package, created}]} in request order (worker/batch-upload.ts)
 *   POST /uploads                       start a multipart upload {sha256, size} → {upload_id, …}
 *   PUT  /uploads/:sha256/parts/:n      one part (?upload_id=…; Content-Length required, ≤ 100 MB)
 *   POST /uploads/:sha256/complete      {upload_id, parts} → verified, stored and registered
 *   DELETE /uploads/:sha256             abort (?upload_id=…)
 *   POST /packages                      add uploaded packages to a dist/component of the open release
 *   POST /packages/remove               remove packages from a dist of the open release
 *   GET  /packages                      list (release, dist, component, architecture, name)
 *
 * No request here deletes or replaces a blob (DESIGN.md §4b). Content reaches its address only
 * once verified (worker/upload.ts); a multipart upload is assembled under a staging key of its own
 * and copied to its address from there; what a refused registration leaves stored is `gc`'s.
 */
import { type Context, Hono } from "hono";
import type { DebInfo } from "../../deb/deb-reader.ts";
import { randomHex } from "../../deb/hash.ts";
import { PART_SIZE, stagingKey } from "../../r2/blobs.ts";
import {
  AddPackagesSchema,
  CompleteUploadSchema,
  CreateUploadSchema,
  ListPackagesQuerySchema,
  LookupPackagesSchema,
  RemovePackagesSchema,
  Sha256Schema,
} from "../../schema/api.ts";
import { BATCH_MAX_BYTES, MULTIPART_MAX_PARTS, SINGLE_UPLOAD_LIMIT } from "../../schema/limits.ts";
import type {
  MultipartUpload,
  PackageFound,
  PackageLookup,
  RegisteredBatch,
  RegisteredPackage,
  UploadedPart,
} from "../../schema/responses.ts";
import { parseBatch, storeBatch } from "../batch-upload.ts";
import type { ApiEnv } from "../context.ts";
import { fail, jsonBody, parseWith, unwrap } from "../errors.ts";
import { requires } from "../middleware/requires.ts";
import { repositoryStub } from "../stub.ts";
import { type Admission, storeDeb } from "../upload.ts";
import * as webhooks from "../webhooks/events.ts";

export const packageRoutes = new Hono<ApiEnv>();

packageRoutes.get("/blobs/:sha256", requires("write"), async (c) => {
  const repo = c.get("repository");
  const sha256 = parseWith(Sha256Schema, c.req.param("sha256"), "sha256");
  const found = unwrap(await repositoryStub(c.env, repo.scope).hasPackage(sha256));
  if (found === null) return fail("package_not_found", `repository ${repo.id} has no package ${sha256}`);
  return c.json({ package: found } satisfies PackageFound);
});

packageRoutes.put("/blobs/:sha256", requires("write"), async (c) => {
  const repo = c.get("repository");
  const sha256 = parseWith(Sha256Schema, c.req.param("sha256"), "sha256");
  const size = declaredLength(c.req.header("content-length"));
  if (size > SINGLE_UPLOAD_LIMIT) {
    // Answered from the header alone, the body cancelled unread: otherwise the answer would wait
    // until the client had sent all it declared, only for it to be thrown away. (Only here, where
    // the body is known to be large: cancelling closes the connection, and a client still sending
    // may then see the reset rather than the answer, which a small body's refusal must not risk.)
    await c.req.raw.body?.cancel();
    return fail(
      "body_too_large",
      `a single upload is at most ${SINGLE_UPLOAD_LIMIT} bytes; use a multipart upload (POST …/uploads)`,
      { size, limit: SINGLE_UPLOAD_LIMIT },
    );
  }
  const stub = repositoryStub(c.env, repo.scope);
  const existing = unwrap(await stub.hasPackage(sha256));
  if (existing !== null) {
    await c.req.raw.body?.cancel();
    return c.json({ package: existing, created: false } satisfies RegisteredPackage);
  }
  const body = c.req.raw.body;
  if (body === null) return fail("size_mismatch", "the request has no body");
  const parsed = unwrap(
    await storeDeb(c.env.BLOBS, repo.scope, { sha256, size }, body, { source: "request", admit: admission(c) }),
  );
  return register(c, parsed);
});

packageRoutes.post("/blobs/lookup", requires("write"), async (c) => {
  const repo = c.get("repository");
  const input = await jsonBody(c, LookupPackagesSchema);
  const found = unwrap(await repositoryStub(c.env, repo.scope).findPackages([...new Set(input.sha256)]));
  return c.json({ packages: found } satisfies PackageLookup);
});

packageRoutes.post("/blobs", requires("write"), async (c) => {
  const repo = c.get("repository");
  const size = declaredLength(c.req.header("content-length"));
  if (size > BATCH_MAX_BYTES) {
    await c.req.raw.body?.cancel();
    return fail(
      "body_too_large",
      `a batch upload is at most ${BATCH_MAX_BYTES} bytes; send fewer files per batch, or large files alone (PUT …/blobs/{sha256})`,
      { size, limit: BATCH_MAX_BYTES },
    );
  }
  if (!/^multipart\/form-data\s*;/i.test(c.req.header("content-type") ?? "")) {
    await c.req.raw.body?.cancel();
    return fail(
      "invalid_request",
      'a batch upload is multipart/form-data with one file part per .deb, named by its SHA-256 (curl -F "$sha256=@pkg.deb")',
    );
  }
  let form: FormData;
  try {
    // Bounded by BATCH_MAX_BYTES above: see worker/batch-upload.ts for why reading it whole is fine.
    form = await c.req.raw.formData();
  } catch {
    return fail("invalid_request", "the body is not valid multipart/form-data");
  }
  const files = unwrap(await parseBatch(form));
  const uploads = files.map((f) => ({ file: f.file, control: f.info.control, hashes: f.info.hashes }));
  const stub = repositoryStub(c.env, repo.scope);
  // Refusals (a version conflict) come back before anything is written.
  const { missing } = unwrap(await stub.checkPackages(uploads));
  const { packed } = await storeBatch(c.env.BLOBS, repo.scope, files, new Set(missing));
  const placed = uploads.map((u) => {
    const place = packed.get(u.hashes.sha256);
    return place === undefined ? u : { ...u, packed: place };
  });
  // Refused after all (a version bound by a concurrent upload since the check) or a failed call:
  // what was stored stays for `gc`, never removed here. A concurrent upload of the same bytes may
  // have found it stored (its put was then a no-op) and be about to register it (DESIGN.md §4b).
  const { packages } = unwrap(await stub.registerPackages(placed));
  return c.json({ packages } satisfies RegisteredBatch, packages.some((p) => p.created) ? 201 : 200);
});

packageRoutes.post("/uploads", requires("write"), async (c) => {
  const repo = c.get("repository");
  const input = await jsonBody(c, CreateUploadSchema);
  const existing = unwrap(await repositoryStub(c.env, repo.scope).hasPackage(input.sha256));
  if (existing !== null) return c.json({ package: existing, created: false } satisfies RegisteredPackage);
  // A fresh 128-bit nonce names this upload's staging key.
  const nonce = randomHex(16);
  const upload = await c.env.BLOBS.createMultipartUpload(stagingKey(repo.scope, input.sha256, nonce), {
    customMetadata: { size: String(input.size) },
  });
  // The nonce names the staging key; clients treat the whole as opaque.
  return c.json(
    { upload_id: `${nonce}.${upload.uploadId}`, sha256: input.sha256, part_size: PART_SIZE } satisfies MultipartUpload,
    201,
  );
});

packageRoutes.put("/uploads/:sha256/parts/:part", requires("write"), async (c) => {
  const sha256 = parseWith(Sha256Schema, c.req.param("sha256"), "sha256");
  const part = Number(c.req.param("part"));
  if (!Number.isInteger(part) || part < 1 || part > MULTIPART_MAX_PARTS)
    return fail("invalid_request", `part numbers run from 1 to ${MULTIPART_MAX_PARTS}`);
  const size = declaredLength(c.req.header("content-length"));
  if (size > SINGLE_UPLOAD_LIMIT) {
    // From the header alone, the body cancelled unread (see PUT /blobs/:sha256).
    await c.req.raw.body?.cancel();
    return fail("body_too_large", `a part is at most ${SINGLE_UPLOAD_LIMIT} bytes`, {
      size,
      limit: SINGLE_UPLOAD_LIMIT,
    });
  }
  const staged = stagedUpload(c, sha256, c.req.query("upload_id"));
  const body = c.req.raw.body;
  if (body === null) return fail("size_mismatch", "the request has no body");
  const measured = measure(body);
  try {
    const uploaded = await staged.upload.uploadPart(part, measured.stream.pipeThrough(new FixedLengthStream(size)));
    return c.json({ part_number: uploaded.partNumber, etag: uploaded.etag } satisfies UploadedPart);
  } catch (cause) {
    const { received, ended, failed } = measured.state();
    if (received > size) {
      return fail("size_mismatch", `the part's body is longer than the declared ${size} bytes (Content-Length)`, {
        declared: size,
      });
    }
    if (failed || (ended && received < size)) {
      return fail("size_mismatch", `the part's body ended after ${received} of the declared ${size} bytes`, {
        declared: size,
        received,
      });
    }
    console.error("uploadPart failed", cause);
    return fail(
      "upload_not_found",
      "no such multipart upload for this package (it may have been completed or aborted)",
    );
  }
});

packageRoutes.post("/uploads/:sha256/complete", requires("write"), async (c) => {
  const repo = c.get("repository");
  const sha256 = parseWith(Sha256Schema, c.req.param("sha256"), "sha256");
  const input = await jsonBody(c, CompleteUploadSchema);
  const staged = stagedUpload(c, sha256, input.upload_id);
  try {
    await staged.upload.complete(input.parts.map((p) => ({ partNumber: p.part_number, etag: p.etag })));
  } catch (cause) {
    console.error("completing a multipart upload failed", cause);
    return fail(
      "upload_not_found",
      "the multipart upload could not be completed: unknown upload_id, or a part is missing or too small (every part but the last must be the same size, at least 5 MiB)",
    );
  }
  // The staging object now exists, made by this request: it goes whatever happens next. Its bytes
  // are read once, through deb/'s reader and into the content address, as a single upload's are.
  let parsed: DebInfo;
  try {
    const object = await c.env.BLOBS.get(staged.key);
    if (object === null) return fail("upload_not_found", "the completed upload is not in storage");
    const declared = Number(object.customMetadata?.size);
    if (object.size !== declared) {
      await object.body.cancel();
      return fail("size_mismatch", `the uploaded parts hold ${object.size} bytes, not the declared ${declared}`, {
        declared,
        received: object.size,
      });
    }
    parsed = unwrap(
      await storeDeb(c.env.BLOBS, repo.scope, { sha256, size: object.size }, object.body, {
        source: "staged",
        admit: admission(c),
      }),
    );
  } finally {
    // A failed delete leaves the staging object to `gc`; it must not hide this request's answer.
    await c.env.BLOBS.delete(staged.key).catch((cause: unknown) => {
      console.error("deleting a multipart upload's staging object failed", cause);
    });
  }
  return register(c, parsed);
});

packageRoutes.delete("/uploads/:sha256", requires("write"), async (c) => {
  const sha256 = parseWith(Sha256Schema, c.req.param("sha256"), "sha256");
  const staged = stagedUpload(c, sha256, c.req.query("upload_id"));
  try {
    // Only the upload's own staging: its parts, never a stored blob.
    await staged.upload.abort();
  } catch {
    return fail("upload_not_found", "no such multipart upload");
  }
  return c.body(null, 204);
});

packageRoutes.post("/packages", requires("write"), async (c) => {
  const repo = c.get("repository");
  const input = await jsonBody(c, AddPackagesSchema);
  const added = unwrap(await repositoryStub(c.env, repo.scope).addPackages(input));
  webhooks.packagesAdded(c, repo, added, input);
  return c.json(added);
});

packageRoutes.post("/packages/remove", requires("write"), async (c) => {
  const repo = c.get("repository");
  const input = await jsonBody(c, RemovePackagesSchema);
  const removed = unwrap(await repositoryStub(c.env, repo.scope).removePackages(input));
  webhooks.packagesRemoved(c, repo, removed, input.dist);
  return c.json(removed);
});

packageRoutes.get("/packages", requires("read"), async (c) => {
  const repo = c.get("repository");
  const filter = parseWith(ListPackagesQuerySchema, c.req.query(), "query");
  return c.json(unwrap(await repositoryStub(c.env, repo.scope).listPackages(filter)));
});

/**
 * Record a stored, verified package with the object. A refusal here (a version bound by a
 * concurrent upload since the check before storing) or a failed call leaves the blob where it is:
 * another request may have stored or found the same bytes and be about to register them, and only
 * `gc`, which knows what rows point at and waits out a grace period, removes unreferenced blobs
 * (DESIGN.md §4b).
 */
async function register(c: Context<ApiEnv>, parsed: DebInfo) {
  const repo = c.get("repository");
  const registered = unwrapRegistered(
    await repositoryStub(c.env, repo.scope).registerPackage({ control: parsed.control, hashes: parsed.hashes }),
  );
  return c.json(registered, registered.created ? 201 : 200);
}

const unwrapRegistered = unwrap<RegisteredPackage>;

/** The object's version rules, asked before an upload's bytes reach their address (worker/upload.ts). */
function admission(c: Context<ApiEnv>): Admission {
  const stub = repositoryStub(c.env, c.get("repository").scope);
  return async (info) => stub.checkPackage({ control: info.control, hashes: info.hashes });
}

/** `{nonce}.{R2's upload id}`, as POST /uploads hands it out; R2's id is opaque and may hold dots. */
const UPLOAD_ID = /^([0-9a-f]{32})\.(.+)$/s;

/** The R2 multipart upload (and its staging key) that an upload_id names, or the refusal. */
function stagedUpload(
  c: Context<ApiEnv>,
  sha256: string,
  uploadId: string | undefined,
): { key: string; upload: R2MultipartUpload } {
  if (!uploadId) return fail("invalid_request", "upload_id is required (from POST …/uploads)");
  const match = UPLOAD_ID.exec(uploadId);
  const [, nonce, r2UploadId] = match ?? [];
  if (nonce === undefined || r2UploadId === undefined)
    return fail("upload_not_found", "no such multipart upload: upload_id is not one POST …/uploads returned");
  const key = stagingKey(c.get("repository").scope, sha256, nonce);
  return { key, upload: c.env.BLOBS.resumeMultipartUpload(key, r2UploadId) };
}

/**
 * The body passed through unchanged, counting what arrived and whether it ended or failed, so that
 * a failed part upload can say whether its body was short (`size_mismatch`) or the upload unknown.
 */
function measure(body: ReadableStream<Uint8Array>): {
  stream: ReadableStream<Uint8Array>;
  state: () => { received: number; ended: boolean; failed: boolean };
} {
  const reader = body.getReader();
  let received = 0;
  let ended = false;
  let failed = false;
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      let next: ReadableStreamReadResult<Uint8Array>;
      try {
        next = await reader.read();
      } catch (cause) {
        // The runtime fails the read when the connection ends before Content-Length bytes came.
        failed = true;
        controller.error(cause);
        return;
      }
      if (next.done) {
        ended = true;
        controller.close();
        return;
      }
      received += next.value.length;
      controller.enqueue(next.value);
    },
    async cancel(reason) {
      await reader.cancel(reason);
    },
  });
  return { stream, state: () => ({ received, ended, failed }) };
}

function declaredLength(header: string | undefined): number {
  if (header === undefined) return fail("length_required", "uploads need a Content-Length header");
  const n = Number(header);
  if (!/^\d+$/.test(header) || !Number.isSafeInteger(n))
    return fail("invalid_request", "Content-Length must be a byte count");
  return n;
}
