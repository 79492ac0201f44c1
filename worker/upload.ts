/**
 * Storing an uploaded `.deb` at its content address, verified first (DESIGN.md §4, §4b). The bytes
 * flow once, chunk by chunk, through deb/'s reader, which parses the control member and hashes
 * everything, and into a conditional R2 put at the content address: If-None-Match: * (R2 checks it
 * atomically, so the put never replaces anything) with the declared SHA-256 (which R2 checks too).
 * Nothing is buffered beyond a chunk: no whole-file copy.
 *
 * The put is of a FixedLengthStream of the declared length, and the last chunk is held back from
 * it until the reader has finished and the package is verified: a valid `.deb`, of the declared
 * SHA-256 and length, whose version the repository accepts. Until then R2 has fewer bytes than
 * declared and cannot complete the object. Anything wrong aborts the writer instead, and the put
 * fails with nothing written. So an upload never deletes anything, and content reaches its address
 * only once it is verified: junk sent under the hash of a published file (a Release.gpg, a
 * Packages index) is refused and that file stays exactly as it was.
 *
 * A put whose address is taken may settle (with null) before it has read all of its stream; a
 * write to it would then wait forever for a reader that is gone. So every write races the put's
 * settlement, and once it has settled the chunks only go to the parser. A taken address holds the
 * same bytes already: every write to a content address is checked by R2 against its SHA-256.
 */
import { type DebInfo, readDeb } from "../deb/deb-reader.ts";
import { blobKey } from "../r2/blobs.ts";
import { type ApiError, apiError } from "../schema/errors.ts";
import type { Result } from "../schema/result.ts";

/**
 * Where the bytes come from: a request body, which may end early when the connection does, or a
 * multipart upload assembled in staging and read back from R2, whose failures are the server's.
 */
export type UploadSource = "request" | "staged";

/**
 * The repository's verdict on a parsed package, asked before its bytes are committed (the
 * object's version rules), so that a refused version writes nothing.
 */
export type Admission = (info: DebInfo) => Promise<Result<unknown, ApiError>>;

/** The reader stopped because of the body's length; `refusal` says how. */
class SizeError extends Error {}

/**
 * A conditional put at a content address, fed chunk by chunk, that can complete only once
 * `commit` hands it the held-back bytes (see the module comment).
 */
class HeldPut {
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #stored: Promise<R2Object | null>;
  /** Resolves once the put has settled either way; it never rejects. */
  readonly #settled: Promise<void>;
  #done = false;

  constructor(bucket: R2Bucket, key: string, sha256: string, size: number) {
    const sink = new FixedLengthStream(size);
    this.#writer = sink.writable.getWriter();
    this.#stored = bucket.put(key, sink.readable, { sha256, onlyIf: { etagDoesNotMatch: "*" } });
    this.#settled = this.#stored.then(
      () => {
        this.#done = true;
      },
      () => {
        this.#done = true;
      },
    );
  }

  /** Hand R2 a chunk, unless the put has settled already (its address was taken, or it failed). */
  async write(chunk: Uint8Array): Promise<void> {
    if (this.#done) return;
    const written = this.#writer.write(chunk);
    // Left pending when the put settles first; the abort or close that follows rejects it.
    written.catch(() => undefined);
    await Promise.race([written, this.#settled]);
  }

  /**
   * Write the held-back bytes and close: the put completes. Resolves whether this put stored the
   * object (false: the address already held it); rejects when R2 refused the put.
   */
  async commit(last: Uint8Array): Promise<boolean> {
    await this.write(last);
    if (!this.#done) {
      const closed = this.#writer.close();
      closed.catch(() => undefined);
      await Promise.race([closed, this.#settled]);
    }
    return (await this.#stored) !== null;
  }

  /** Make sure the put never completes: a refused upload stores nothing. */
  async abort(reason: unknown): Promise<void> {
    await this.#writer.abort(reason).catch(() => undefined);
    await this.#settled;
  }
}

/**
 * Stream `body` (declared `size` bytes with SHA-256 `sha256`) through deb/'s reader and into R2 at
 * its content address, writing it only once it is verified and `admit` accepts it. Refusals are
 * values (`size_mismatch`, `invalid_package`, `hash_mismatch`, or `admit`'s); they store nothing.
 * An object already at the address is never touched: it holds these bytes.
 */
export async function storeDeb(
  bucket: R2Bucket,
  repositoryId: string,
  declared: { sha256: string; size: number },
  body: ReadableStream<Uint8Array>,
  options: { source: UploadSource; admit: Admission },
): Promise<Result<DebInfo, ApiError>> {
  const { sha256, size } = declared;
  const what = options.source === "request" ? "the body" : "the uploaded parts";
  const whose = options.source === "request" ? "the body's" : "the uploaded parts'";
  // Nothing can be held back from an empty body, so it gets no put (a put of 0 bytes would
  // complete before anything is checked); the reader refuses it as a truncated archive.
  const put = size > 0 ? new HeldPut(bucket, blobKey(repositoryId, sha256), sha256, size) : null;
  let refusal: ApiError | null = null;
  let held: Uint8Array | null = null;

  async function* chunks(): AsyncGenerator<Uint8Array> {
    const reader = body.getReader();
    let seen = 0;
    let finished = false;
    try {
      for (;;) {
        let next: ReadableStreamReadResult<Uint8Array>;
        try {
          next = await reader.read();
        } catch (cause) {
          if (options.source !== "request") throw cause;
          // The runtime fails the read when the connection ends before Content-Length bytes came.
          refusal = apiError(
            "size_mismatch",
            `the body ended after ${seen} of the declared ${size} bytes (Content-Length): the connection closed before the whole body arrived`,
            { declared: size, received: seen },
          );
          throw new SizeError(refusal.message, { cause });
        }
        if (next.done) break;
        const chunk = next.value;
        if (chunk.length === 0) continue;
        seen += chunk.length;
        if (seen > size) {
          refusal = apiError("size_mismatch", `${what} is longer than the declared ${size} bytes (Content-Length)`, {
            declared: size,
          });
          throw new SizeError(refusal.message);
        }
        // One chunk behind: the parser sees each chunk before R2 does, so the last one is still
        // here when the parser has finished.
        if (held !== null) await put?.write(held);
        held = chunk;
        yield chunk;
      }
      if (seen < size) {
        refusal = apiError("size_mismatch", `${what} ended after ${seen} of the declared ${size} bytes`, {
          declared: size,
          received: seen,
        });
        throw new SizeError(refusal.message);
      }
      finished = true;
    } finally {
      if (!finished) await reader.cancel().catch(() => undefined);
    }
  }

  const refuse = async (error: ApiError): Promise<Result<DebInfo, ApiError>> => {
    await put?.abort(new Error(`upload refused: ${error.code}`));
    return { ok: false, error };
  };
  try {
    let parsed: Awaited<ReturnType<typeof readDeb>>;
    try {
      // readDeb reads to the end of the archive on success, so every length check above has run.
      parsed = await readDeb(chunks());
    } catch (cause) {
      if (refusal !== null) return refuse(refusal);
      throw cause;
    }
    if (!parsed.ok) {
      return refuse(
        apiError("invalid_package", `not a valid Debian package: ${parsed.error.message}`, {
          reason: parsed.error.code,
          ...(parsed.error.field === undefined ? {} : { field: parsed.error.field }),
        }),
      );
    }
    const { hashes } = parsed.value;
    if (hashes.sha256 !== sha256) {
      return refuse(
        apiError("hash_mismatch", `${whose} SHA-256 is ${hashes.sha256}, not the declared ${sha256}`, {
          declared: sha256,
          actual: hashes.sha256,
        }),
      );
    }
    const admitted = await options.admit(parsed.value);
    if (!admitted.ok) return refuse(admitted.error);
    if (put === null || held === null || hashes.size !== size) {
      throw new Error(`a verified package of ${hashes.size} bytes was declared as ${size} bytes`);
    }
    await put.commit(held);
    return parsed;
  } catch (cause) {
    await put?.abort(cause);
    throw new Error("storing an upload failed", { cause });
  }
}
