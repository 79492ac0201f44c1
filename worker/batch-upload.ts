/**
 * Batch uploads of small packages (`POST …/blobs`): one multipart/form-data request carries up to
 * BATCH_MAX_FILES (schema/limits.ts) `.deb` files, each part named by the file's SHA-256, so that a CI job pushing
 * thousands of small packages pays one request, one R2 write (the batch's new files as one pack)
 * and two object calls per batch instead of three requests, one write and two object calls per file.
 *
 * Unlike the single upload (worker/upload.ts), the body is read whole with `formData()`: that is
 * acceptable because a batch is bounded (BATCH_MAX_BYTES, checked against Content-Length before
 * anything is read), and it is what lets every file be parsed and checked before any is stored.
 * DESIGN.md §7's rule is about never holding a large index in memory, not a bounded request.
 */
import { type DebInfo, readDeb } from "../deb/deb-reader.ts";
import { putPack } from "../r2/blobs.ts";
import { Sha256Schema } from "../schema/api.ts";
import { type ApiError, apiError } from "../schema/errors.ts";
import { BATCH_MAX_FILE_BYTES, BATCH_MAX_FILES } from "../schema/limits.ts";
import type { Result } from "../schema/result.ts";

/** One part of a batch, parsed: the name it came under, its bytes and what deb/'s reader found. */
export interface BatchFile {
  file: string;
  body: Blob;
  info: DebInfo;
}

const KiB = (n: number) => `${Math.round(n / 1024)} KiB`;

/**
 * Check every part of a batch and parse it as deb/'s reader parses a single upload. The first
 * problem, in request order, refuses the whole batch and names the file; nothing is stored here.
 */
export async function parseBatch(form: FormData): Promise<Result<BatchFile[], ApiError>> {
  const entries = [...form.entries()];
  const refuse = (code: ApiError["code"], message: string, details?: Record<string, unknown>) => ({
    ok: false as const,
    error: apiError(code, message, details),
  });
  if (entries.length === 0) {
    return refuse(
      "invalid_request",
      'the batch holds no files: send one file part per .deb, named by its SHA-256 (curl -F "$sha256=@pkg.deb")',
    );
  }
  if (entries.length > BATCH_MAX_FILES) {
    return refuse("invalid_request", `a batch holds at most ${BATCH_MAX_FILES} files; this one has ${entries.length}`, {
      files: entries.length,
      limit: BATCH_MAX_FILES,
    });
  }
  // Every part's shape first, so that a malformed request is refused before any parsing work.
  for (const [field, value] of entries) {
    if (!Sha256Schema.safeParse(field).success) {
      const file = typeof value === "string" ? undefined : value.name;
      return refuse(
        "invalid_request",
        `part "${field.slice(0, 80)}"${file ? ` (${file})` : ""}: the field name must be the file's SHA-256 (64 lowercase hex digits)`,
        { field: field.slice(0, 80), ...(file ? { file } : {}) },
      );
    }
    if (typeof value === "string") {
      return refuse(
        "invalid_request",
        `part ${field} is a plain form field; send the .deb as a file part (curl -F "${field}=@pkg.deb")`,
        { field },
      );
    }
    if (value.size > BATCH_MAX_FILE_BYTES) {
      return refuse(
        "body_too_large",
        `${value.name}: ${KiB(value.size)} is above the ${KiB(BATCH_MAX_FILE_BYTES)} a file in a batch may have; upload it alone (PUT …/blobs/{sha256})`,
        { file: value.name, size: value.size, limit: BATCH_MAX_FILE_BYTES },
      );
    }
  }
  const files: BatchFile[] = [];
  for (const [declared, value] of entries) {
    if (typeof value === "string") continue;
    const file = value.name || declared;
    // One chunk: the bytes are in memory already, and a stream would cost a round of promises per piece.
    const parsed = await readDeb(once(new Uint8Array(await value.arrayBuffer())));
    if (!parsed.ok) {
      return refuse("invalid_package", `${file}: not a valid Debian package: ${parsed.error.message}`, {
        file,
        sha256: declared,
        reason: parsed.error.code,
        ...(parsed.error.field === undefined ? {} : { field: parsed.error.field }),
      });
    }
    const actual = parsed.value.hashes.sha256;
    if (actual !== declared) {
      return refuse("hash_mismatch", `${file}: the file's SHA-256 is ${actual}, not the declared ${declared}`, {
        file,
        declared,
        actual,
      });
    }
    files.push({ file, body: value, info: parsed.value });
  }
  return { ok: true, value: files };
}

async function* once(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}

/** Where a batch's new files went: each packed file's place. */
export interface StoredBatch {
  /** The files kept in the pack, by SHA-256: the pack's address and where each file starts in it. */
  packed: Map<string, { pack: string; offset: number }>;
}

/**
 * Store the files whose hashes are in `wanted`, each once however often it appears in the batch,
 * as one pack (r2/blobs.ts putPack): one R2 write a batch, not one a file.
 *
 * Every file was parsed and hash-checked (parseBatch) and the batch admitted (the object's
 * checkPackages) before this is called, so what reaches a content address is verified, and the
 * puts are conditional: an address already taken keeps its bytes (DESIGN.md §4b).
 */
export async function storeBatch(
  bucket: R2Bucket,
  scope: string,
  files: BatchFile[],
  wanted: ReadonlySet<string>,
): Promise<StoredBatch> {
  const members = new Map<string, Blob>();
  for (const f of files) {
    const sha256 = f.info.hashes.sha256;
    if (wanted.has(sha256) && !members.has(sha256)) members.set(sha256, f.body);
  }
  return { packed: await putPack(bucket, scope, members) };
}
