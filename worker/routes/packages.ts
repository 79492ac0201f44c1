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
 *   POST /uploads                       start a multipart upload {sha256, size}
 *   PUT  /uploads/:sha256/parts/:n      one part (?upload_id=…)
 *   POST /uploads/:sha256/complete      {upload_id, parts} → verified and registered
 *   DELETE /uploads/:sha256             abort (?upload_id=…)
 *   POST /packages                      add uploaded packages to a dist/component of the open release
 *   POST /packages/remove               remove packages from a dist of the open release
 *   GET  /packages                      list (release, dist, component, architecture, name)
 */
import { type Context, Hono } from "hono";
import type { DebInfo } from "../../deb/deb-reader.ts";
import { blobKey, PART_SIZE } from "../../objects/repository/blobs.ts";
import type { PackageSummary } from "../../objects/repository/repository-object.ts";
import {
  AddPackagesSchema,
  CompleteUploadSchema,
  CreateUploadSchema,
  ListPackagesQuerySchema,
  LookupPackagesSchema,
  RemovePackagesSchema,
  Sha256Schema,
} from "../../schema/api.ts";
import { authorize } from "../access.ts";
import { BATCH_MAX_BYTES, parseBatch, storeBatch } from "../batch-upload.ts";
import type { ApiEnv } from "../context.ts";
import { fail, jsonBody, parseWith, unwrap } from "../errors.ts";
import { repositoryStub } from "../stub.ts";
import { storeDeb, verifyStoredDeb } from "../upload.ts";

/** Workers refuse request bodies above this on the common plans (DESIGN.md §7); larger files go multipart. */
export const SINGLE_UPLOAD_LIMIT = 100 * 1024 * 1024;

export const packageRoutes = new Hono<ApiEnv>();

packageRoutes.get("/blobs/:sha256", async (c) => {
  const repo = c.get("repository");
  await authorize(c, repo, "write");
  const sha256 = parseWith(Sha256Schema, c.req.param("sha256"), "sha256");
  const found = unwrap(await repositoryStub(c.env, repo.id).hasPackage(sha256));
  if (found === null) return fail("package_not_found", `repository ${repo.id} has no package ${sha256}`);
  return c.json({ package: found });
});

packageRoutes.put("/blobs/:sha256", async (c) => {
  const repo = c.get("repository");
  await authorize(c, repo, "write");
  const sha256 = parseWith(Sha256Schema, c.req.param("sha256"), "sha256");
  const size = declaredLength(c.req.header("content-length"));
  if (size > SINGLE_UPLOAD_LIMIT) {
    return fail(
      "body_too_large",
      `a single upload is at most ${SINGLE_UPLOAD_LIMIT} bytes; use a multipart upload (POST …/uploads)`,
    );
  }
  const stub = repositoryStub(c.env, repo.id);
  const existing = unwrap(await stub.hasPackage(sha256));
  if (existing !== null) {
    await c.req.raw.body?.cancel();
    return c.json({ package: existing, created: false });
  }
  const body = c.req.raw.body;
  if (body === null) return fail("size_mismatch", "the request has no body");
  const parsed = unwrap(await storeDeb(c.env.BLOBS, repo.id, sha256, size, body));
  return register(c, parsed);
});

packageRoutes.post("/blobs/lookup", async (c) => {
  const repo = c.get("repository");
  await authorize(c, repo, "write");
  const input = await jsonBody(c, LookupPackagesSchema);
  const found = unwrap(await repositoryStub(c.env, repo.id).findPackages([...new Set(input.sha256)]));
  return c.json({ packages: found });
});

packageRoutes.post("/blobs", async (c) => {
  const repo = c.get("repository");
  await authorize(c, repo, "write");
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
  const stub = repositoryStub(c.env, repo.id);
  // Refusals (a version conflict) come back before anything is written.
  const { missing } = unwrap(await stub.checkPackages(uploads));
  // Only what no registered package stands on is removed: a concurrent upload of the same bytes
  // may have registered them (or the same pack) since the check, and its packages must keep their
  // blob. A failed clean-up leaves unreferenced blobs, which `gc` removes; it must not hide the
  // refusal being reported.
  const { written, packed } = await storeBatch(c.env.BLOBS, repo.id, files, new Set(missing));
  const discard = async () => {
    if (written.length === 0) return;
    try {
      const orphans = unwrap(await stub.unreferencedBlobs(written));
      if (orphans.length > 0) await c.env.BLOBS.delete(orphans.map((sha256) => blobKey(repo.id, sha256)));
    } catch (cause) {
      console.error("removing the blobs of a refused batch failed", cause);
    }
  };
  let packages: { package: PackageSummary; created: boolean }[];
  try {
    const placed = uploads.map((u) => {
      const place = packed.get(u.hashes.sha256);
      return place === undefined ? u : { ...u, packed: place };
    });
    packages = unwrap(await stub.registerPackages(placed)).packages;
  } catch (refusal) {
    // Refused after all (a version bound by a concurrent upload since the check), or the call
    // failed: nothing of this batch stays behind.
    await discard();
    throw refusal;
  }
  return c.json({ packages }, packages.some((p) => p.created) ? 201 : 200);
});

packageRoutes.post("/uploads", async (c) => {
  const repo = c.get("repository");
  await authorize(c, repo, "write");
  const input = await jsonBody(c, CreateUploadSchema);
  const existing = unwrap(await repositoryStub(c.env, repo.id).hasPackage(input.sha256));
  if (existing !== null) return c.json({ package: existing, created: false });
  const upload = await c.env.BLOBS.createMultipartUpload(blobKey(repo.id, input.sha256));
  return c.json({ upload_id: upload.uploadId, sha256: input.sha256, part_size: PART_SIZE }, 201);
});

packageRoutes.put("/uploads/:sha256/parts/:part", async (c) => {
  const repo = c.get("repository");
  await authorize(c, repo, "write");
  const sha256 = parseWith(Sha256Schema, c.req.param("sha256"), "sha256");
  const part = Number(c.req.param("part"));
  if (!Number.isInteger(part) || part < 1 || part > 10_000)
    return fail("invalid_request", "part numbers run from 1 to 10000");
  const uploadId = c.req.query("upload_id");
  if (!uploadId) return fail("invalid_request", "upload_id is required (from POST …/uploads)");
  const size = declaredLength(c.req.header("content-length"));
  if (size > SINGLE_UPLOAD_LIMIT) return fail("body_too_large", `a part is at most ${SINGLE_UPLOAD_LIMIT} bytes`);
  const body = c.req.raw.body;
  if (body === null) return fail("size_mismatch", "the request has no body");
  const upload = c.env.BLOBS.resumeMultipartUpload(blobKey(repo.id, sha256), uploadId);
  try {
    const uploaded = await upload.uploadPart(part, body.pipeThrough(new FixedLengthStream(size)));
    return c.json({ part_number: uploaded.partNumber, etag: uploaded.etag });
  } catch (cause) {
    console.error("uploadPart failed", cause);
    return fail(
      "upload_not_found",
      "no such multipart upload for this package (it may have been completed or aborted)",
    );
  }
});

packageRoutes.post("/uploads/:sha256/complete", async (c) => {
  const repo = c.get("repository");
  await authorize(c, repo, "write");
  const sha256 = parseWith(Sha256Schema, c.req.param("sha256"), "sha256");
  const input = await jsonBody(c, CompleteUploadSchema);
  const upload = c.env.BLOBS.resumeMultipartUpload(blobKey(repo.id, sha256), input.upload_id);
  try {
    await upload.complete(input.parts.map((p) => ({ partNumber: p.part_number, etag: p.etag })));
  } catch (cause) {
    console.error("completing a multipart upload failed", cause);
    return fail(
      "upload_not_found",
      "the multipart upload could not be completed: unknown upload_id, or a part is missing or too small (every part but the last must be the same size, at least 5 MiB)",
    );
  }
  const parsed = unwrap(await verifyStoredDeb(c.env.BLOBS, repo.id, sha256));
  return register(c, parsed);
});

packageRoutes.delete("/uploads/:sha256", async (c) => {
  const repo = c.get("repository");
  await authorize(c, repo, "write");
  const sha256 = parseWith(Sha256Schema, c.req.param("sha256"), "sha256");
  const uploadId = c.req.query("upload_id");
  if (!uploadId) return fail("invalid_request", "upload_id is required");
  try {
    await c.env.BLOBS.resumeMultipartUpload(blobKey(repo.id, sha256), uploadId).abort();
  } catch {
    return fail("upload_not_found", "no such multipart upload");
  }
  return c.body(null, 204);
});

packageRoutes.post("/packages", async (c) => {
  const repo = c.get("repository");
  await authorize(c, repo, "write");
  const input = await jsonBody(c, AddPackagesSchema);
  return c.json(unwrap(await repositoryStub(c.env, repo.id).addPackages(input)));
});

packageRoutes.post("/packages/remove", async (c) => {
  const repo = c.get("repository");
  await authorize(c, repo, "write");
  const input = await jsonBody(c, RemovePackagesSchema);
  return c.json(unwrap(await repositoryStub(c.env, repo.id).removePackages(input)));
});

packageRoutes.get("/packages", async (c) => {
  const repo = c.get("repository");
  await authorize(c, repo, "read");
  const filter = parseWith(ListPackagesQuerySchema, c.req.query(), "query");
  return c.json(unwrap(await repositoryStub(c.env, repo.id).listPackages(filter)));
});

async function register(c: Context<ApiEnv>, parsed: DebInfo) {
  const repo = c.get("repository");
  let registered: Awaited<ReturnType<typeof unwrapRegistered>>;
  try {
    registered = unwrapRegistered(
      await repositoryStub(c.env, repo.id).registerPackage({ control: parsed.control, hashes: parsed.hashes }),
    );
  } catch (refusal) {
    // Refused (version_exists, filename_exists): the bytes just stored must not stay behind.
    await c.env.BLOBS.delete(blobKey(repo.id, parsed.hashes.sha256));
    throw refusal;
  }
  return c.json(registered, registered.created ? 201 : 200);
}

const unwrapRegistered = unwrap<{ package: PackageSummary; created: boolean }>;

function declaredLength(header: string | undefined): number {
  if (header === undefined) return fail("length_required", "uploads need a Content-Length header");
  const n = Number(header);
  if (!/^\d+$/.test(header) || !Number.isSafeInteger(n))
    return fail("invalid_request", "Content-Length must be a byte count");
  return n;
}
