import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { gunzipSync } from "node:zlib";
import { describe, it } from "vitest";
import { hashBytes } from "../../deb/hash.ts";
import { blobKey, PART_SIZE, putStream } from "../../objects/repository/blobs.ts";
import { writePackagesIndex } from "../../objects/repository/index-writer.ts";
import { MIGRATIONS } from "../../objects/repository/migrations.ts";
import { chunkedStream } from "../helpers/bytes.ts";
import { prng } from "../helpers/prng.ts";

function noise(size: number, seed: number): Uint8Array {
  const next = prng(seed);
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = (next() * 256) | 0;
  return out;
}

describe("putStream", () => {
  it.for([
    ["one part, put directly", 1000],
    ["exactly one part", PART_SIZE],
    ["several parts, through staging", 2 * PART_SIZE + 12_345],
  ] as const)("stores %s at its content address", async ([, size], { expect }) => {
    const repo = `blobs/put-${size}`;
    const bytes = noise(size, size);
    const digest = await putStream(env.BLOBS, repo, chunkedStream(bytes, 64 * 1024 + 7));
    const expected = hashBytes(bytes);
    expect(digest).toEqual({ size, md5: expected.md5, sha256: expected.sha256, sha512: expected.sha512 });
    const stored = await env.BLOBS.get(blobKey(repo, expected.sha256));
    expect(new Uint8Array((await stored?.arrayBuffer()) ?? new ArrayBuffer(0))).toEqual(bytes);
    const listed = await env.BLOBS.list({ prefix: `repos/${repo}/` });
    expect(listed.objects.map((o) => o.key)).toEqual([blobKey(repo, expected.sha256)]);
  });
});

describe("writePackagesIndex", () => {
  it("writes the plain and gzipped index from a stream of entries", async ({ expect }) => {
    const repo = "blobs/index";
    function* entries() {
      for (let i = 0; i < 3000; i++) {
        yield {
          fields: [
            { name: "Package", value: `pkg-${i}` },
            { name: "Version", value: "1.0" },
            { name: "Architecture", value: "amd64" },
            { name: "Description", value: `package ${i}\n ${"x".repeat(1000)}` },
          ],
          filename: `pool/main/p/pkg-${i}/pkg-${i}_1.0_amd64.deb`,
          size: i,
          md5: "0".repeat(32),
          sha256: "0".repeat(64),
        };
      }
    }
    const written = await writePackagesIndex(env.BLOBS, repo, entries());
    expect(written.plain.size).toBeGreaterThan(PART_SIZE / 2);
    const plain = new Uint8Array(
      await ((await env.BLOBS.get(blobKey(repo, written.plain.sha256)))?.arrayBuffer() ?? new ArrayBuffer(0)),
    );
    const gz = new Uint8Array(
      await ((await env.BLOBS.get(blobKey(repo, written.gzip.sha256)))?.arrayBuffer() ?? new ArrayBuffer(0)),
    );
    expect(hashBytes(plain).sha256).toBe(written.plain.sha256);
    expect(new Uint8Array(gunzipSync(gz))).toEqual(plain);
    const text = new TextDecoder().decode(plain);
    expect(text.split("\n\n").filter((s) => s !== "")).toHaveLength(3000);
    expect(text.startsWith("Package: pkg-0\nArchitecture: amd64\nVersion: 1.0\n")).toBe(true);
  });
});

describe("RepositoryObject storage", () => {
  it("records its migrations and allows one open and one active release", async ({ expect }) => {
    const stub = env.REPOSITORY.get(env.REPOSITORY.idFromName("blobs/migrations"));
    await runInDurableObject(stub, (_instance, state) => {
      const applied = state.storage.sql.exec<{ id: number }>("SELECT id FROM _migrations ORDER BY id").toArray();
      expect(applied.map((r) => r.id)).toEqual(MIGRATIONS.map((m) => m.id));
      state.storage.sql.exec("INSERT INTO releases (id, seq, state, created_at) VALUES ('a', 1, 'open', 0)");
      expect(() =>
        state.storage.sql.exec("INSERT INTO releases (id, seq, state, created_at) VALUES ('b', 2, 'open', 0)"),
      ).toThrow(/UNIQUE/);
      expect(() =>
        state.storage.sql.exec("INSERT INTO releases (id, seq, state, created_at) VALUES ('c', 3, 'draft', 0)"),
      ).toThrow(/CHECK/);
    });
  });
});
