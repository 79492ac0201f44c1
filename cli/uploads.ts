/**
 * Uploading packages: hash each file locally, ask the repository whether it has that hash (and skip
 * the body if so), then send it in one request or, above the single-request limit, in parts.
 * Files go in parallel (bounded); each transient failure is retried by the client with backoff.
 */
import { createHash } from "node:crypto";
import { createReadStream, statSync } from "node:fs";
import { basename } from "node:path";
import { Readable } from "node:stream";
import type { ApiClient } from "./client.ts";
import { ServerError, UserError } from "./errors.ts";
import type { Output } from "./output.ts";
import { Progress } from "./progress.ts";

/** The Worker's single-request limit (worker/routes/packages.ts); larger files go multipart. */
export const SINGLE_UPLOAD_LIMIT = 100 * 1024 * 1024;

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

interface PackageAnswer {
  package: { sha256: string; name: string; version: string; architecture: string; size: number };
}

export async function uploadFiles(
  client: ApiClient,
  repository: string,
  files: string[],
  out: Output,
  options: { concurrency?: number; multipartThreshold?: number } = {},
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
  const progress = new Progress(
    out,
    files.map((f, i) => ({ label: basename(f), total: sizes[i] ?? 0 })),
  );
  const results: UploadedFile[] = new Array(files.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < files.length; i = next++) {
      const file = files[i] ?? "";
      results[i] = await uploadOne(
        client,
        repository,
        file,
        sizes[i] ?? 0,
        progress.bar(i),
        options.multipartThreshold,
      );
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(options.concurrency ?? 4, files.length) }, worker));
  } finally {
    progress.done();
  }
  return results;
}

async function uploadOne(
  client: ApiClient,
  repository: string,
  file: string,
  size: number,
  bar: (sent: number, note?: string) => void,
  threshold = SINGLE_UPLOAD_LIMIT,
): Promise<UploadedFile> {
  const sha256 = await hashFile(file);
  const known = await client.request(client.repo(repository, `/blobs/${sha256}`), { allow: [404] });
  if (known.status === 200) {
    const answer = (await known.json()) as PackageAnswer;
    bar(size, "already uploaded");
    return summarize(file, answer, "present");
  }
  await known.body?.cancel();
  try {
    const answer =
      size > threshold
        ? await multipart(client, repository, file, sha256, size, bar)
        : await client.json<PackageAnswer>(client.repo(repository, `/blobs/${sha256}`), {
            method: "PUT",
            headers: { "content-length": String(size), "content-type": "application/vnd.debian.binary-package" },
            body: () => counted(file, 0, size, bar),
          });
    bar(size, "uploaded");
    return summarize(file, answer, "uploaded");
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
  const started = await client.json<{ upload_id?: string; part_size?: number } & Partial<PackageAnswer>>(
    client.repo(repository, "/uploads"),
    { json: { sha256, size } },
  );
  if (started.package) return started as PackageAnswer;
  const uploadId = started.upload_id ?? "";
  const partSize = started.part_size ?? 8 * 1024 * 1024;
  const parts: { part_number: number; etag: string }[] = [];
  try {
    for (let n = 1, at = 0; at < size; n++, at += partSize) {
      const length = Math.min(partSize, size - at);
      const offset = at;
      parts.push(
        await client.json(
          client.repo(repository, `/uploads/${sha256}/parts/${n}?upload_id=${encodeURIComponent(uploadId)}`),
          {
            method: "PUT",
            headers: { "content-length": String(length) },
            body: () => counted(file, offset, length, bar),
          },
        ),
      );
    }
    return await client.json<PackageAnswer>(client.repo(repository, `/uploads/${sha256}/complete`), {
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

async function hashFile(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("hex");
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
