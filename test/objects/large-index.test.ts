/**
 * An index of several chunks (objects/repository/index-writer.ts), generated inside the Durable
 * Object: uploads landing while it is written, one package added or removed re-rendering one chunk
 * only, and an index that shrinks back to one chunk getting its plain Packages again.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { gunzipSync } from "node:zlib";
import { describe, it } from "vitest";
import { hashBytes } from "../../deb/hash.ts";
import { CHUNK_BYTES } from "../../objects/repository/publishing/index-writer.ts";
import { concatenatedBlobs } from "../../r2/blobs.ts";
import { must, removeFromStable } from "../helpers/repository-object.ts";

function fakeUpload(name: string, architecture = "amd64") {
  const description = `${name}, one of a large dist\n ${"word ".repeat(16000).trim()}`;
  const hashes = hashBytes(new TextEncoder().encode(`${name} ${architecture}`));
  return {
    control: {
      package: name,
      version: "1.0",
      architecture,
      source: name,
      fields: [
        { name: "Package", value: name },
        { name: "Version", value: "1.0" },
        { name: "Architecture", value: architecture },
        { name: "Maintainer", value: "Armor Tests <tests@armor.invalid>" },
        { name: "Description", value: description },
      ],
    },
    hashes,
  };
}

/** A repository of this test file, and what the tests do with it. */
function repository(id: string) {
  const stub = env.REPOSITORY.get(env.REPOSITORY.idFromName(id));
  return {
    stub,
    configure: () =>
      stub.configure({
        id,
        uid: null,
        mayReuseVersions: false,
        retentionSeconds: 86_400,
        baseUrl: "https://x.example",
      }),
    async add(names: string[], architecture = "amd64"): Promise<void> {
      const shas: string[] = [];
      for (const name of names) {
        shas.push(must(await stub.registerPackage(fakeUpload(name, architecture))).package.sha256);
      }
      must(await stub.addPackages({ release: null, dist: "stable", component: "main", packages: shas }));
    },
    remove: (name: string) => removeFromStable(stub, name),
    /** The stanzas of the gzipped index stored under `sha256`, after checking its hash. */
    async stanzas(sha256: string): Promise<string[]> {
      // Packages.gz is served as the open release's chunks back to back (FileRef.parts).
      const parts = await runInDurableObject(stub, (_instance, state) =>
        state.storage.sql
          .exec<{ sha256: string; size: number }>(
            `SELECT gzip_sha256 AS sha256, gzip_size AS size FROM index_chunks c JOIN releases r ON r.id = c.release_id
             WHERE r.state = 'open' ORDER BY start_name, start_version, start_architecture`,
          )
          .toArray(),
      );
      const gz = new Uint8Array(await new Response(concatenatedBlobs(env.BLOBS, id, parts)).arrayBuffer());
      if (hashBytes(gz).sha256 !== sha256) throw new Error(`blob ${sha256} does not have that hash`);
      return gunzipSync(gz)
        .toString("utf8")
        .split("\n\n")
        .filter((x) => x !== "");
    },
    /** The open release's chunk hashes, in key order. */
    chunkHashes: () =>
      runInDurableObject(stub, (_instance, state) =>
        state.storage.sql
          .exec<{ gzip_sha256: string }>(
            `SELECT gzip_sha256 FROM index_chunks c JOIN releases r ON r.id = c.release_id
             WHERE r.state = 'open' ORDER BY start_name, start_version, start_architecture`,
          )
          .toArray()
          .map((r) => r.gzip_sha256),
      ),
  };
}

/** The SHA-256 and size the Release text lists for a path, or null. */
function listed(release: string, path: string): { sha256: string; size: number } | null {
  const sha256 = release.slice(release.indexOf("SHA256:"));
  const line = sha256.split("\n").find((l) => l.endsWith(` ${path}`));
  const [hex, size] = line?.trim().split(/ +/) ?? [];
  return hex === undefined ? null : { sha256: hex, size: Number(size) };
}

const names = Array.from({ length: 80 }, (_, i) => `pkg-${String(i * 10).padStart(4, "0")}`);

describe("a Packages index of several chunks", () => {
  it("is generated while uploads land, and one package re-renders one chunk", async ({ expect }) => {
    const { stub, configure, add, remove, stanzas, chunkHashes } = repository("large/index");
    await configure();
    await add(names);
    // An upload lands while the index is written: generate must still describe one generation,
    // the one before the upload or the one after it (which, depends on where the upload's calls
    // fall among generate's awaits), and a generate after it describes the upload.
    const [raced] = await Promise.all([stub.generate("stable"), add(["pkg-9999"])]);
    const racedDoc = must(raced).document;
    const racedNames = (
      await stanzas(listed(racedDoc.release_text, "main/binary-amd64/Packages.gz")?.sha256 ?? "")
    ).map((x) => x.match(/^Package: (.+)$/m)?.[1]);
    const generated = must(await stub.generate("stable"));
    expect(racedNames).toEqual(racedDoc.generation === generated.document.generation ? [...names, "pkg-9999"] : names);
    expect(racedDoc.generation).toBeGreaterThanOrEqual(generated.document.generation - 1);
    const first = generated.document.release_text;
    const gz = listed(first, "main/binary-amd64/Packages.gz");
    expect(gz).not.toBeNull();
    const all = await stanzas(gz?.sha256 ?? "");
    // Too large for one chunk: the uncompressed Packages is listed (apt looks the index up by that
    // name and checks the text it decompresses) but not stored or served, as in Debian's archive.
    const text = new TextEncoder().encode(`${all.join("\n\n")}\n\n`);
    expect(listed(first, "main/binary-amd64/Packages")).toEqual({ sha256: hashBytes(text).sha256, size: text.length });
    expect(await env.BLOBS.head(`repos/large/index/blobs/sha256/${hashBytes(text).sha256}`)).toBeNull();
    expect(first).not.toMatch(/^ [0-9a-f]{32} +\d+ main\/binary-amd64\/Packages$/m);
    expect(all).toHaveLength(81);
    expect(all.map((s) => s.match(/^Package: (.+)$/m)?.[1])).toEqual([...names, "pkg-9999"]);
    const before = await chunkHashes();
    expect(before.length).toBeGreaterThanOrEqual(Math.floor((81 * 80_000) / CHUNK_BYTES) - 1);
    const stats: Record<string, unknown> = must(await stub.stats());
    expect(stats.dirty).toEqual([]);

    // One package in the middle: one chunk changes, the others are reused as they are.
    await add(["pkg-0405"]);
    const second = must(await stub.generate("stable"));
    expect(second.regenerated).toEqual(["main/binary-amd64"]);
    const after = await chunkHashes();
    expect(after.filter((h) => !before.includes(h))).toHaveLength(1);
    expect(before.filter((h) => !after.includes(h))).toHaveLength(1);
    const withOne = await stanzas(listed(second.document.release_text, "main/binary-amd64/Packages.gz")?.sha256 ?? "");
    expect(withOne).toHaveLength(82);
    expect(withOne.findIndex((s) => s.startsWith("Package: pkg-0405\n"))).toBe(41);

    // Removing it again gives back the same bytes: chunks are content-addressed and deterministic.
    await remove("pkg-0405");
    const third = must(await stub.generate("stable"));
    expect(listed(third.document.release_text, "main/binary-amd64/Packages.gz")).toEqual(gz);
    expect(await chunkHashes()).toEqual(before);
  });

  it("gets its plain Packages back when it shrinks to one chunk", async ({ expect }) => {
    const { stub, configure, add, remove, stanzas, chunkHashes } = repository("large/shrinking");
    await configure();
    const few = names.slice(0, 25);
    await add(few);
    must(await stub.generate("stable"));
    expect((await chunkHashes()).length).toBeGreaterThan(1);
    for (const name of few.slice(3)) await remove(name);
    const text = must(await stub.generate("stable")).document.release_text;
    expect(await chunkHashes()).toHaveLength(1);
    const plain = listed(text, "main/binary-amd64/Packages");
    const object = await env.BLOBS.get(`repos/large/shrinking/blobs/sha256/${plain?.sha256}`);
    const body = (await object?.text()) ?? "";
    expect(body.length).toBe(plain?.size);
    expect(body.split("\n\n").filter((x) => x !== "")).toHaveLength(3);
    const gz = await stanzas(listed(text, "main/binary-amd64/Packages.gz")?.sha256 ?? "");
    expect(`${gz.join("\n\n")}\n\n`).toBe(body);
  });

  it("re-renders, for an Architecture: all package, the chunk that holds it in every architecture's index", async ({
    expect,
  }) => {
    const { stub, configure, add, chunkHashes } = repository("large/all");
    await configure();
    const few = names.slice(0, 40);
    await add(few, "amd64");
    await add(few, "arm64");
    must(await stub.generate("stable"));
    const before = await chunkHashes();
    expect(before.length).toBeGreaterThan(4);
    await add(["pkg-0205"], "all");
    const generated = must(await stub.generate("stable"));
    expect(generated.regenerated.sort()).toEqual(["main/binary-amd64", "main/binary-arm64"]);
    const after = await chunkHashes();
    expect(after.filter((h) => !before.includes(h))).toHaveLength(2);
    expect(after).toHaveLength(before.length);
  });
});
