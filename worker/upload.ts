/**
 * Storing an uploaded `.deb`: the request body flows once, chunk by chunk, both into R2 under its
 * content address (R2 checks the SHA-256 the client declared) and through deb/'s reader, which
 * parses the control member and hashes everything. Each chunk is handed to R2 before the parser
 * sees it, so neither side runs ahead and nothing is buffered beyond a chunk: no whole-file copy.
 *
 * A body that is not a valid package, does not have the declared hash or length, or whose version
 * is already taken, is not stored: the put is aborted, or the object deleted if it had completed.
 */
import { type DebInfo, readDeb } from "../deb/deb-reader.ts";
import { blobKey } from "../objects/repository/blobs.ts";
import { type ApiError, apiError } from "../schema/errors.ts";
import type { Result } from "../schema/result.ts";

class SizeError extends Error {}

/** Stream `body` (declared `size` bytes with SHA-256 `sha256`) into R2 while parsing it. */
export async function storeDeb(
  bucket: R2Bucket,
  repositoryId: string,
  sha256: string,
  size: number,
  body: ReadableStream<Uint8Array>,
): Promise<Result<DebInfo, ApiError>> {
  const key = blobKey(repositoryId, sha256);
  const sink = new FixedLengthStream(size);
  const writer = sink.writable.getWriter();
  const stored = bucket.put(key, sink.readable, { sha256 });
  // The parser's failures end the body early; keep the put's own rejection from going unhandled.
  stored.catch(() => undefined);
  let sizeError: string | null = null;
  let finished = false;

  async function* chunks(): AsyncGenerator<Uint8Array> {
    const reader = body.getReader();
    let seen = 0;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        seen += value.length;
        if (seen > size) {
          sizeError = `the body is longer than the declared ${size} bytes (Content-Length)`;
          throw new SizeError(sizeError);
        }
        await writer.write(value);
        yield value;
      }
      if (seen < size) {
        sizeError = `the body ended after ${seen} of the declared ${size} bytes`;
        throw new SizeError(sizeError);
      }
      await writer.close();
      finished = true;
    } finally {
      if (!finished) {
        await writer.abort(new Error("upload refused")).catch(() => undefined);
        await reader.cancel().catch(() => undefined);
      }
    }
  }

  let parsed: Awaited<ReturnType<typeof readDeb>> | null = null;
  let parseFailure: unknown = null;
  try {
    // readDeb reads to the end of the archive on success, which closes the R2 side too.
    parsed = await readDeb(chunks());
  } catch (cause) {
    parseFailure = cause;
  }
  let putFailure: unknown = null;
  try {
    await stored;
  } catch (cause) {
    putFailure = cause;
  }

  // The put may have completed even when the writer was aborted (FixedLengthStream ends once all
  // declared bytes arrived), so a refused upload always deletes its key. Nothing else can own it:
  // the object is only asked to register content whose upload succeeded.
  const refuse = async (error: ApiError): Promise<Result<DebInfo, ApiError>> => {
    await bucket.delete(key);
    return { ok: false, error };
  };
  if (sizeError !== null) return refuse(apiError("size_mismatch", sizeError));
  if (parsed !== null && !parsed.ok) {
    return refuse(
      apiError("invalid_package", `not a valid Debian package: ${parsed.error.message}`, {
        reason: parsed.error.code,
        ...(parsed.error.field === undefined ? {} : { field: parsed.error.field }),
      }),
    );
  }
  if (parsed?.ok && parsed.value.hashes.sha256 !== sha256) {
    return refuse(
      apiError("hash_mismatch", `the body's SHA-256 is ${parsed.value.hashes.sha256}, not the declared ${sha256}`, {
        declared: sha256,
        actual: parsed.value.hashes.sha256,
      }),
    );
  }
  if (parseFailure !== null || putFailure !== null || parsed === null) {
    await bucket.delete(key);
    throw new Error("storing an upload failed", { cause: parseFailure ?? putFailure });
  }
  return parsed;
}

/** Read back a stored object (after a multipart upload) and parse it, as a single upload would have been. */
export async function verifyStoredDeb(
  bucket: R2Bucket,
  repositoryId: string,
  sha256: string,
): Promise<Result<DebInfo, ApiError>> {
  const key = blobKey(repositoryId, sha256);
  const object = await bucket.get(key);
  if (object === null)
    return { ok: false, error: apiError("upload_not_found", "the completed upload is not in storage") };
  const parsed = await readDeb(object.body);
  if (!parsed.ok) {
    await bucket.delete(key);
    return {
      ok: false,
      error: apiError("invalid_package", `not a valid Debian package: ${parsed.error.message}`, {
        reason: parsed.error.code,
      }),
    };
  }
  if (parsed.value.hashes.sha256 !== sha256) {
    await bucket.delete(key);
    return {
      ok: false,
      error: apiError(
        "hash_mismatch",
        `the uploaded parts' SHA-256 is ${parsed.value.hashes.sha256}, not the declared ${sha256}`,
      ),
    };
  }
  return parsed;
}
