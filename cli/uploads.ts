/**
 * Uploading packages: hash each file locally, ask the repository which hashes it already has (one
 * request per 1000 files) and skip those, then send the rest: small files many to a request
 * (`POST …/blobs`, multipart/form-data), larger ones alone, and above the single-request limit in
 * parts. Requests go in parallel (bounded); each transient failure is retried by the client with
 * backoff.
 */
import { createHash } from "node:crypto";
import { createReadStream, openAsBlob, statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { basename } from "node:path";
import { Readable } from "node:stream";
import { BATCH_MAX_FILE_BYTES, LOOKUP_MAX, SINGLE_UPLOAD_LIMIT } from "../schema/limits.ts";
import {
  PackageLookupSchema,
  type PackageSummary,
  RegisteredBatchSchema,
  RegisteredPackageSchema,
  UploadedPartSchema,
  UploadStartedSchema,
} from "../schema/responses.ts";
import type { ApiClient } from "./client.ts";
import { ServerError, UserError } from "./errors.ts";
import type { Output } from "./output.ts";
import { Progress } from "./progress.ts";

/**
 * A batch closes at this many files or bytes, whichever comes first: well inside the Worker's
 * 1000 files and 32 MiB, large enough that per-request costs vanish (bench/RESULTS.md).
 */
export const BATCH_FILES = 256;
export const BATCH_BYTES = 8 * 1024 * 1024;
/** Files hashed at once: reading is the slow part, and small files are many. */
const HASH_CONCURRENCY = 16;

export interface UploadedFile {
  file: string;
  sha256: string;
  size: number;
  name: string;
  version: string;
  architecture: string;
  /** "uploaded", or "present" when the repository already had these bytes. */
  status: "uploaded" | "present";
}

/** An upload's answer: the package the repository holds. */
type PackageAnswer = { package: PackageSummary };

export interface UploadOptions {
  /** Requests in flight: batches, or single files. */
  concurrency?: number;
  /** Files above this go in parts (default SINGLE_UPLOAD_LIMIT, the Worker's single-request limit). */
  multipartThreshold?: number;
  /** Files above this go alone rather than in a batch (default BATCH_MAX_FILE_BYTES, the Worker's per-file limit in a batch). */
  batchFileLimit?: number;
}

export async function uploadFiles(
  client: ApiClient,
  repository: string,
  files: string[],
  out: Output,
  options: UploadOptions = {},
): Promise<UploadedFile[]> {
  const sizes = files.map((file) => {
    try {
      const st = statSync(file);
      if (!st.isFile()) throw new UserError(`${file} is not a file`);
      return st.size;
    } catch (cause) {
      if (cause instanceof UserError) throw cause;
      throw new UserError(`cannot read ${file}: no such file`, { hint: "check the path", cause });
    }
  });
  const batchFileLimit = options.batchFileLimit ?? BATCH_MAX_FILE_BYTES;
  const progress = new Progress(
    out,
    files.map((f, i) => ({ label: basename(f), total: sizes[i] ?? 0 })),
  );
  const results: UploadedFile[] = new Array(files.length);
  const hashes: string[] = new Array(files.length);
  const pool = new Pool(options.concurrency ?? 4);

  /** Small files in one request; the answer lists their packages in the same order. */
  const sendBatch = (members: number[]) => async () => {
    const answers = await uploadBatch(
      client,
      repository,
      members.map((i) => ({ file: files[i] ?? "", sha256: hashes[i] ?? "" })),
    );
    members.forEach((i, k) => {
      const answer = answers[k];
      if (answer === undefined) throw new Error(`the batch answer has no entry for ${files[i]}`);
      progress.bar(i)(sizes[i] ?? 0, "uploaded");
      results[i] = summarize(files[i] ?? "", answer, "uploaded");
    });
  };
  const sendOne = (i: number) => async () => {
    const file = files[i] ?? "";
    const answer = await uploadOne(client, repository, file, hashes[i] ?? "", sizes[i] ?? 0, progress.bar(i), options);
    results[i] = summarize(file, answer, "uploaded");
  };

  try {
    // A group at a time: hash, ask which the repository has (one request), queue the rest. The
    // pool takes a group's requests as slots free up, so the next group is hashed meanwhile.
    for (const group of chunks(
      files.map((_, i) => i),
      LOOKUP_MAX,
    )) {
      await inParallel(group, HASH_CONCURRENCY, async (i) => {
        hashes[i] = await hashFile(files[i] ?? "", (sizes[i] ?? 0) <= batchFileLimit);
      });
      const answer = await client.json(client.repo(repository, "/blobs/lookup"), PackageLookupSchema, {
        json: { sha256: [...new Set(group.map((i) => hashes[i] ?? ""))] },
      });
      let batch: number[] = [];
      let batchBytes = 0;
      for (const i of group) {
        const size = sizes[i] ?? 0;
        const found = answer.packages[hashes[i] ?? ""];
        if (found) {
          progress.bar(i)(size, "already uploaded");
          results[i] = summarize(files[i] ?? "", { package: found }, "present");
        } else if (size > batchFileLimit) {
          await pool.add(sendOne(i));
        } else {
          if (batch.length >= BATCH_FILES || (batch.length > 0 && batchBytes + size > BATCH_BYTES)) {
            await pool.add(sendBatch(batch));
            batch = [];
            batchBytes = 0;
          }
          batch.push(i);
          batchBytes += size;
        }
      }
      if (batch.length > 0) await pool.add(sendBatch(batch));
    }
    await pool.drain();
  } finally {
    // Requests in flight finish (or fail) before the outcome is reported, even after a failure.
    await pool.settled();
    progress.done();
  }
  return results;
}

/**
 * Send small files in one request: one file part per `.deb`, named by its SHA-256, under the
 * file's own name, which the server's refusals quote. The FormData is built once and sent again
 * as it is if the client retries (file-backed Blobs are read afresh on every attempt).
 */
async function uploadBatch(
  client: ApiClient,
  repository: string,
  members: { file: string; sha256: string }[],
): Promise<PackageAnswer[]> {
  const form = new FormData();
  for (const m of members) form.append(m.sha256, await openAsBlob(m.file), basename(m.file));
  try {
    const answer = await client.json(client.repo(repository, "/blobs"), RegisteredBatchSchema, { body: form });
    return answer.packages;
  } catch (error) {
    // Refusals of one file name it (details.file); anything else concerns the whole batch.
    if (error instanceof ServerError && typeof error.details?.file !== "string") {
      const names = members.map((m) => basename(m.file));
      const which =
        names.length <= 3 ? names.join(", ") : `${names.slice(0, 2).join(", ")} and ${names.length - 2} more`;
      throw new ServerError(error.status, error.code, `${which}: ${error.message}`, error.details);
    }
    throw error;
  }
}

/** Send one file alone: in one request, or in parts above the multipart threshold. */
async function uploadOne(
  client: ApiClient,
  repository: string,
  file: string,
  sha256: string,
  size: number,
  bar: (sent: number, note?: string) => void,
  options: UploadOptions,
): Promise<PackageAnswer> {
  try {
    const answer =
      size > (options.multipartThreshold ?? SINGLE_UPLOAD_LIMIT)
        ? await multipart(client, repository, file, sha256, size, bar)
        : await client.json(client.repo(repository, `/blobs/${sha256}`), RegisteredPackageSchema, {
            method: "PUT",
            headers: { "content-length": String(size), "content-type": "application/vnd.debian.binary-package" },
            body: () => counted(file, 0, size, bar),
          });
    bar(size, "uploaded");
    return answer;
  } catch (error) {
    if (error instanceof ServerError) {
      throw new ServerError(error.status, error.code, `${basename(file)}: ${error.message}`, error.details);
    }
    throw error;
  }
}

async function multipart(
  client: ApiClient,
  repository: string,
  file: string,
  sha256: string,
  size: number,
  bar: (sent: number) => void,
): Promise<PackageAnswer> {
  const started = await client.json(client.repo(repository, "/uploads"), UploadStartedSchema, {
    json: { sha256, size },
  });
  if ("package" in started) return started;
  const uploadId = started.upload_id;
  const partSize = started.part_size;
  const parts: { part_number: number; etag: string }[] = [];
  try {
    for (let n = 1, at = 0; at < size; n++, at += partSize) {
      const length = Math.min(partSize, size - at);
      const offset = at;
      parts.push(
        await client.json(
          client.repo(repository, `/uploads/${sha256}/parts/${n}?upload_id=${encodeURIComponent(uploadId)}`),
          UploadedPartSchema,
          {
            method: "PUT",
            headers: { "content-length": String(length) },
            body: () => counted(file, offset, length, bar),
          },
        ),
      );
    }
    return await client.json(client.repo(repository, `/uploads/${sha256}/complete`), RegisteredPackageSchema, {
      json: { upload_id: uploadId, parts },
    });
  } catch (error) {
    await client
      .request(client.repo(repository, `/uploads/${sha256}?upload_id=${encodeURIComponent(uploadId)}`), {
        method: "DELETE",
        allow: [404],
      })
      .catch(() => undefined);
    throw error;
  }
}

/** A web stream of [offset, offset + length) of the file that reports progress as it is read. */
function counted(
  file: string,
  offset: number,
  length: number,
  bar: (sent: number) => void,
): ReadableStream<Uint8Array> {
  let sent = offset;
  const stream = createReadStream(file, { start: offset, end: offset + length - 1, highWaterMark: 256 * 1024 });
  stream.on("data", (chunk) => {
    sent += chunk.length;
    bar(sent);
  });
  return Readable.toWeb(stream) as ReadableStream<Uint8Array>;
}

/** SHA-256 of a file: read whole when small (one read beats a stream's many), streamed otherwise. */
async function hashFile(file: string, small: boolean): Promise<string> {
  const hash = createHash("sha256");
  if (small) hash.update(await readFile(file));
  else for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/**
 * At most `limit` tasks at once. `add` waits for a free slot, so a producer never runs ahead of
 * the requests; the first failure is thrown by the next `add` and by `drain`.
 */
class Pool {
  readonly #limit: number;
  readonly #running = new Set<Promise<void>>();
  #failure: { error: unknown } | null = null;

  constructor(limit: number) {
    this.#limit = limit;
  }

  async add(task: () => Promise<void>): Promise<void> {
    while (this.#running.size >= this.#limit) await Promise.race(this.#running);
    this.#throwFailure();
    const run: Promise<void> = task()
      .catch((error: unknown) => {
        this.#failure ??= { error };
      })
      .finally(() => this.#running.delete(run));
    this.#running.add(run);
  }

  /** Every task has finished; throws the first failure. */
  async drain(): Promise<void> {
    await this.settled();
    this.#throwFailure();
  }

  /** Every task has finished, failed or not (tasks never reject: `add` keeps their failure). */
  async settled(): Promise<void> {
    await Promise.all(this.#running);
  }

  #throwFailure(): void {
    if (this.#failure !== null) throw this.#failure.error;
  }
}

/** Run `fn` over `items`, at most `limit` at a time; the first failure stops new work and is thrown. */
async function inParallel<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < items.length) {
      const item = items[next++] as T;
      try {
        await fn(item);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function summarize(file: string, answer: PackageAnswer, status: UploadedFile["status"]): UploadedFile {
  const p = answer.package;
  return {
    file,
    sha256: p.sha256,
    size: p.size,
    name: p.name,
    version: p.version,
    architecture: p.architecture,
    status,
  };
}
