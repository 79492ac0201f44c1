import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { gunzipSync, gzipSync } from "node:zlib";
import { describe, it } from "vitest";
import { concat } from "../../deb/bytes.ts";
import { hashBytes } from "../../deb/hash.ts";
import { renderStanza } from "../../deb/packages.ts";
import { FIRST_KEY } from "../../objects/repository/index-keys.ts";
import { MIGRATIONS } from "../../objects/repository/migrations.ts";
import { CHUNK_BYTES, IndexHasher, writeChunks } from "../../objects/repository/publishing/index-writer.ts";
import { blobKey, concatenatedBlobs } from "../../r2/blobs.ts";

function entry(i: number, descriptionBytes: number) {
  const name = `pkg-${String(i).padStart(5, "0")}`;
  return {
    key: [name, "1.0", "amd64"] as const,
    stanza: renderStanza({
      fields: [
        { name: "Package", value: name },
        { name: "Version", value: "1.0" },
        { name: "Architecture", value: "amd64" },
        { name: "Description", value: `package ${i}\n ${"x".repeat(descriptionBytes)}` },
      ],
      filename: `pool/main/p/${name}/${name}_1.0_amd64.deb`,
      size: i,
      md5: "0".repeat(32),
      sha256: "0".repeat(64),
    }),
  };
}

async function stored(repo: string, sha256: string): Promise<Uint8Array> {
  const object = await env.BLOBS.get(blobKey(repo, sha256));
  return new Uint8Array((await object?.arrayBuffer()) ?? new ArrayBuffer(0));
}

describe("writeChunks and IndexHasher", () => {
  it("cut an index into gzip members whose concatenation is Packages.gz", async ({ expect }) => {
    const repo = "blobs/chunks";
    const entries = Array.from({ length: 3000 }, (_, i) => entry(i, 2000));
    const written = new IndexHasher();
    const chunks = await writeChunks(env.BLOBS, repo, FIRST_KEY, null, entries, written);
    const expected = entries.map((e) => `${e.stanza}\n`).join("");

    // About CHUNK_BYTES each; a short tail joins the chunk before it.
    expect(chunks.length).toBe(Math.floor(expected.length / CHUNK_BYTES));
    expect(chunks.map((c) => c.start[0])).toEqual(
      chunks.map((_, i) => (i === 0 ? "" : entries[chunks.slice(0, i).reduce((n, c) => n + c.stanzas, 0)]?.key[0])),
    );
    expect(chunks.reduce((n, c) => n + c.stanzas, 0)).toBe(3000);
    for (const c of chunks) {
      expect(c.plainSize).toBeGreaterThanOrEqual(CHUNK_BYTES);
      expect(c.plain).toBeNull();
      const member = await stored(repo, c.gzipSha256);
      expect(member.length).toBe(c.gzipSize);
      expect(gunzipSync(member).length).toBe(c.plainSize);
    }

    // Hashed as written, and hashed again read back from R2: the same digests.
    const { gzip: digest, plain } = await written.digest(env.BLOBS, repo);
    const readBack = new IndexHasher();
    await readBack.addStored(env.BLOBS, repo, chunks);
    expect(await readBack.digest(env.BLOBS, repo)).toEqual({ gzip: digest, plain });
    const text = hashBytes(new TextEncoder().encode(expected));
    expect(plain).toEqual({ size: text.size, sha256: text.sha256 });
    const parts = chunks.map((c) => ({ sha256: c.gzipSha256, size: c.gzipSize }));
    const gz = new Uint8Array(await new Response(concatenatedBlobs(env.BLOBS, repo, parts)).arrayBuffer());
    const h = hashBytes(gz);
    expect(digest).toEqual({ size: gz.length, md5: h.md5, sha256: h.sha256, sha512: h.sha512 });
    // Members back to back, as RFC 1952 defines a gzip file; any gunzip reads them all.
    const members = await Promise.all(chunks.map((c) => stored(repo, c.gzipSha256)));
    expect(gz).toEqual(concat(members));
    expect(gunzipSync(gz).toString("utf8")).toBe(expected);
    // Any byte range, across members, is the same bytes.
    for (const [offset, length] of [
      [0, 10],
      [(chunks[0]?.gzipSize ?? 0) - 5, 10],
      [1000, gz.length],
      [gz.length - 1, 1],
    ] as const) {
      const slice = new Uint8Array(
        await new Response(concatenatedBlobs(env.BLOBS, repo, parts, { offset, length })).arrayBuffer(),
      );
      expect(slice).toEqual(gz.subarray(offset, offset + length));
    }
  });

  it("are served with the next parts requested from R2 while one is read, and no more", async ({ expect }) => {
    const repo = "blobs/read-ahead";
    const members = Array.from(
      { length: 8 },
      (_, i) => new Uint8Array(gzipSync(new TextEncoder().encode(`Package: p${i}\n\n`))),
    );
    const parts = [];
    for (const m of members) {
      const sha256 = hashBytes(m).sha256;
      await env.BLOBS.put(blobKey(repo, sha256), m);
      parts.push({ sha256, size: m.length });
    }
    const requested: string[] = [];
    const finished: string[] = [];
    const cancelled: string[] = [];
    // The bucket as concatenatedBlobs sees it, recording each read, each body read to its end and
    // each given up.
    const bucket = {
      get: async (key: string, options: R2GetOptions) => {
        requested.push(key);
        const object = await env.BLOBS.get(key, options);
        if (object === null) return null;
        const bytes = new Uint8Array(await object.arrayBuffer());
        let sent = false;
        // Its bytes only when read, so a body never read is open until it is cancelled.
        const body = new ReadableStream<Uint8Array>(
          {
            pull: (c) => {
              if (sent) {
                finished.push(key);
                c.close();
              } else c.enqueue(bytes);
              sent = true;
            },
            cancel: () => void cancelled.push(key),
          },
          { highWaterMark: 0 },
        );
        return { body };
      },
    } as unknown as R2Bucket;
    const reader = concatenatedBlobs(bucket, repo, parts).getReader();
    expect((await reader.read()).value).toEqual(members[0]);
    // The parts after the first were asked for before their turn, three at most besides the one
    // being read (and the one the stream buffers ahead of its reader).
    expect(requested.length).toBeGreaterThanOrEqual(4);
    expect((await reader.read()).value).toEqual(members[1]);
    expect(requested.length).toBeLessThanOrEqual(6);
    expect(requested).toEqual(parts.slice(0, requested.length).map((p) => blobKey(repo, p.sha256)));
    // A client that goes away: every part asked for and not read to its end is let go, and
    // nothing more is asked for.
    await reader.cancel("gone");
    await new Promise((resolve) => setTimeout(resolve, 10));
    const asked = requested.length;
    expect(new Set([...finished, ...cancelled])).toEqual(new Set(requested));
    expect(cancelled.length).toBeGreaterThanOrEqual(3);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(requested).toHaveLength(asked);
    // Read whole, the same bytes as the members back to back.
    const whole = new Uint8Array(await new Response(concatenatedBlobs(bucket, repo, parts)).arrayBuffer());
    expect(whole).toEqual(concat(members));
  });

  it("keep the plain text of an index that is one chunk", async ({ expect }) => {
    const repo = "blobs/one-chunk";
    const entries = Array.from({ length: 10 }, (_, i) => entry(i, 10));
    const [only, ...rest] = await writeChunks(env.BLOBS, repo, FIRST_KEY, null, entries);
    expect(rest).toEqual([]);
    const text = entries.map((e) => `${e.stanza}\n`).join("");
    expect(new TextDecoder().decode(only?.plain ?? new Uint8Array())).toBe(text);
    expect(gunzipSync(await stored(repo, only?.gzipSha256 ?? "")).toString("utf8")).toBe(text);
    expect(await writeChunks(env.BLOBS, repo, FIRST_KEY, null, [])).toEqual([]);
  });
});

describe("R2 failures during generation", () => {
  it("fail writeChunks with R2's error when a chunk write fails, with writes in flight", async ({ expect }) => {
    let puts = 0;
    const failing = {
      head: async () => null,
      put: async () => {
        puts++;
        throw new Error("R2 is unavailable");
      },
    } as unknown as R2Bucket;
    // More chunks than writes in flight, so that stopping within the window shows.
    const entries = Array.from({ length: 3000 }, (_, i) => entry(i, 2000));
    await expect(writeChunks(failing, "blobs/failing", FIRST_KEY, null, entries)).rejects.toThrow("R2 is unavailable");
    // Writes overlap rendering, but the failure stops the render within the in-flight window.
    expect(puts).toBeGreaterThan(0);
    expect(puts).toBeLessThan(Math.floor((3000 * 2000) / CHUNK_BYTES));
  });

  it("fail hashing with the missing chunk named when a stored chunk is gone", async ({ expect }) => {
    const repo = "blobs/missing";
    const chunks = await writeChunks(
      env.BLOBS,
      repo,
      FIRST_KEY,
      null,
      Array.from({ length: 3000 }, (_, i) => entry(i, 1000)),
    );
    const gone = chunks[1]?.gzipSha256 ?? "";
    await env.BLOBS.delete(blobKey(repo, gone));
    await expect(new IndexHasher().addStored(env.BLOBS, repo, chunks)).rejects.toThrow(
      `index chunk ${gone} is missing from R2`,
    );
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
