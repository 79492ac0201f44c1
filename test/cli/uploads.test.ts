/**
 * The CLI's upload planner against the real Worker: which requests it sends (one existence check
 * per 1000 files, small files in batches, larger ones alone), that what it reports matches what
 * the repository holds, and that a batch survives a dropped connection.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, it } from "vitest";
import { ApiClient } from "../../cli/client.ts";
import { Output } from "../../cli/output.ts";
import { BATCH_FILES, uploadFiles } from "../../cli/uploads.ts";
import { buildDeb } from "../../deb/deb-writer.ts";
import { hashBytes } from "../../deb/hash.ts";
import { type LocalStack, startLocalStack } from "../helpers/local-stack.ts";
import { writeDeb } from "./armor.ts";

let stack: LocalStack;
let work: string;
let n = 0;

beforeAll(async () => {
  stack = await startLocalStack();
  work = mkdtempSync(join(tmpdir(), "armor-uploads-"));
}, 60_000);

afterAll(async () => {
  await stack?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

async function newRepo(): Promise<string> {
  n += 1;
  const id = `acme/uploads-${n}`;
  const res = await fetch(`${stack.endpoint}/admin/v1/repositories`, {
    method: "POST",
    headers: { authorization: `Bearer ${stack.token}` },
    body: JSON.stringify({ id }),
  });
  if (res.status !== 201) throw new Error(`creating ${id}: ${res.status} ${await res.text()}`);
  return id;
}

/**
 * A client whose requests are recorded as "METHOD /path-below-the-repository". `intercept` may
 * drop a request (a network failure) or answer it instead of the Worker, once per distinct call.
 */
function recordingClient(repo: string, intercept: (call: string) => "drop" | Response | undefined = () => undefined) {
  const calls: string[] = [];
  const intercepted = new Set<string>();
  const client = new ApiClient({
    endpoint: stack.endpoint,
    token: stack.token,
    fetch: async (input, init) => {
      const url = new URL(String(input));
      const call = `${init?.method ?? "GET"} ${url.pathname.replace(`/api/v1/repositories/${repo}`, "")}`;
      calls.push(call);
      const instead = intercepted.has(call) ? undefined : intercept(call);
      if (instead !== undefined) intercepted.add(call);
      if (instead === "drop") throw new TypeError("fetch failed", { cause: new Error("connection reset by the test") });
      return instead ?? fetch(input, init);
    },
  });
  return { client, calls };
}

function capture() {
  const out = { stderr: "" };
  const io = {
    stdout: { write: () => true },
    stderr: { write: (t: string) => (out.stderr += t) },
    env: { CI: "true" },
  };
  return { output: new Output(io, { json: false, verbose: false }), out };
}

/** A package of `size` bytes of incompressible content, above a small batch limit. */
function largeDeb(name: string, size: number): string {
  const bytes = buildDeb({
    fields: [
      { name: "Package", value: name },
      { name: "Version", value: "1.0" },
      { name: "Architecture", value: "amd64" },
      { name: "Maintainer", value: "Armor Tests <tests@armor.invalid>" },
      { name: "Description", value: "a larger test package" },
    ],
    files: [{ path: `/usr/share/${name}/blob`, data: randomBytes(size) }],
  });
  const path = join(work, `${name}_1.0_amd64.deb`);
  writeFileSync(path, bytes);
  return path;
}

describe("uploadFiles", () => {
  it("checks existence in bulk, sends small files in batches and larger ones alone, and skips all on a rerun", async ({
    expect,
  }) => {
    const repo = await newRepo();
    const small = Array.from({ length: BATCH_FILES + 20 }, (_, i) => writeDeb(work, `small${i}`, "1.0"));
    const large = [largeDeb("large-a", 6000), largeDeb("large-b", 7000)];
    // The same file twice is harmless: both report it.
    const files = [large[0] as string, ...small, small[0] as string, large[1] as string];
    const { client, calls } = recordingClient(repo);
    const { output, out } = capture();
    const uploaded = await uploadFiles(client, repo, files, output, { concurrency: 3, batchFileLimit: 4096 });

    expect(uploaded.map((u) => u.file)).toEqual(files);
    expect(uploaded.every((u) => u.status === "uploaded")).toBe(true);
    expect(uploaded[1]).toMatchObject({ name: "small0", version: "1.0", architecture: "amd64" });
    expect(uploaded[0]).toMatchObject({ name: "large-a" });
    expect(calls.filter((c) => c === "POST /blobs/lookup")).toHaveLength(1);
    expect(calls.filter((c) => c === "POST /blobs")).toHaveLength(2);
    expect(calls.filter((c) => c.startsWith("PUT /blobs/")).sort()).toEqual(
      [uploaded[0]?.sha256, uploaded.at(-1)?.sha256].map((sha) => `PUT /blobs/${sha}`).sort(),
    );
    expect(calls).toHaveLength(5);
    for (const f of files) expect(out.stderr).toContain(`uploaded: ${f.split("/").at(-1)} (`);

    // What the CLI reported is what the repository holds.
    const held = await fetch(`${stack.endpoint}/api/v1/repositories/${repo}/blobs/lookup`, {
      method: "POST",
      headers: { authorization: `Bearer ${stack.token}` },
      body: JSON.stringify({ sha256: uploaded.map((u) => u.sha256) }),
    });
    const packages = ((await held.json()) as { packages: Record<string, { size: number; name: string } | null> })
      .packages;
    for (const u of uploaded) expect(packages[u.sha256]).toMatchObject({ name: u.name, size: u.size });

    const again = recordingClient(repo);
    const rerun = capture();
    const second = await uploadFiles(again.client, repo, files, rerun.output, { batchFileLimit: 4096 });
    expect(second.map((u) => [u.file, u.status])).toEqual(files.map((f) => [f, "present"]));
    expect(second.map((u) => u.sha256)).toEqual(uploaded.map((u) => u.sha256));
    expect(again.calls).toEqual(["POST /blobs/lookup"]);
    expect(rerun.out.stderr).toContain("already uploaded: small0_1.0_amd64.deb");
  });

  it("sends a batch again after a dropped connection, with the same files", async ({ expect }) => {
    const repo = await newRepo();
    const files = Array.from({ length: 5 }, (_, i) => writeDeb(work, `retry${i}`, "1.0"));
    const { client, calls } = recordingClient(repo, (call) => (call === "POST /blobs" ? "drop" : undefined));
    const uploaded = await uploadFiles(client, repo, files, capture().output);
    expect(calls).toEqual(["POST /blobs/lookup", "POST /blobs", "POST /blobs"]);
    expect(uploaded.map((u) => [u.name, u.status])).toEqual(files.map((_, i) => [`retry${i}`, "uploaded"]));
  });

  it("sends a file above the multipart threshold in parts, which the server assembles apart and verifies", async ({
    expect,
  }) => {
    const repo = await newRepo();
    // Two parts: the server's part size (5 MiB) and the rest.
    const big = largeDeb("parted", 6 * 1024 * 1024);
    const { client, calls } = recordingClient(repo);
    const [uploaded] = await uploadFiles(client, repo, [big], capture().output, {
      multipartThreshold: 1024 * 1024,
      batchFileLimit: 1024 * 1024,
    });
    const sha256 = hashBytes(readFileSync(big)).sha256;
    expect(uploaded).toMatchObject({ name: "parted", sha256, status: "uploaded" });
    expect(calls).toEqual([
      "POST /blobs/lookup",
      "POST /uploads",
      `PUT /uploads/${sha256}/parts/1`,
      `PUT /uploads/${sha256}/parts/2`,
      `POST /uploads/${sha256}/complete`,
    ]);
    const held = await fetch(`${stack.endpoint}/api/v1/repositories/${repo}/blobs/${sha256}`, {
      headers: { authorization: `Bearer ${stack.token}` },
    });
    expect(await held.json()).toMatchObject({ package: { name: "parted", size: readFileSync(big).length } });
  });

  it("names the file the server refused, and the batch's files when the refusal concerns them all", async ({
    expect,
  }) => {
    const repo = await newRepo();
    const good = writeDeb(work, "fine", "1.0");
    const bad = join(work, "garbled_1.0_amd64.deb");
    writeFileSync(bad, "not a package");
    await expect(uploadFiles(recordingClient(repo).client, repo, [good, bad], capture().output)).rejects.toMatchObject({
      code: "invalid_package",
      message: expect.stringMatching(/^garbled_1\.0_amd64\.deb: not a valid Debian package: /),
      details: { file: "garbled_1.0_amd64.deb", sha256: hashBytes(new TextEncoder().encode("not a package")).sha256 },
    });
    const lookup = await fetch(`${stack.endpoint}/api/v1/repositories/${repo}/blobs/lookup`, {
      method: "POST",
      headers: { authorization: `Bearer ${stack.token}` },
      body: JSON.stringify({ sha256: [hashBytes(readFileSync(good)).sha256] }),
    });
    expect(await lookup.json()).toEqual({ packages: { [hashBytes(readFileSync(good)).sha256]: null } });

    // A refusal of the whole request (here as a proxy in front of the Worker might answer) names the batch's files.
    const files = ["one", "two", "three", "four"].map((name) => writeDeb(work, name, "1.0"));
    const tooLarge = Response.json(
      { error: { code: "body_too_large", message: "the request is too large" } },
      { status: 413 },
    );
    const { client } = recordingClient(repo, (call) => (call === "POST /blobs" ? tooLarge : undefined));
    await expect(uploadFiles(client, repo, files, capture().output)).rejects.toMatchObject({
      status: 413,
      code: "body_too_large",
      message: "one_1.0_amd64.deb, two_1.0_amd64.deb and 2 more: the request is too large",
    });
  });
});
