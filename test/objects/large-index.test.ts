/**
 * An index longer than one R2 part (5 MiB) takes the staging path of putStream: multipart upload,
 * then a move to its content address. This runs it inside the Durable Object, where generation
 * happens, with uploads landing while it streams.
 */
import { env } from "cloudflare:workers";
import { describe, it } from "vitest";
import { hashBytes } from "../../deb/hash.ts";
import { PART_SIZE } from "../../objects/repository/blobs.ts";

const REPO = "large/index";

/** The value of an RPC result, or the failure as an exception (RPC typing loses the union's narrowing). */
function must<T>(result: { ok: boolean; value?: T }): T {
  if (!result.ok || result.value === undefined) throw new Error(`RPC failed: ${JSON.stringify(result)}`);
  return result.value;
}

function fakeUpload(i: number) {
  const description = `package ${i} of a large dist\n ${"word ".repeat(2000).trim()}`;
  const hashes = hashBytes(new TextEncoder().encode(`package ${i}`));
  return {
    control: {
      package: `pkg-${String(i).padStart(5, "0")}`,
      version: "1.0",
      architecture: "amd64",
      source: `pkg-${String(i).padStart(5, "0")}`,
      fields: [
        { name: "Package", value: `pkg-${String(i).padStart(5, "0")}` },
        { name: "Version", value: "1.0" },
        { name: "Architecture", value: "amd64" },
        { name: "Maintainer", value: "Armor Tests <tests@armor.invalid>" },
        { name: "Description", value: description },
      ],
    },
    hashes,
  };
}

describe("a Packages index larger than one R2 part", () => {
  it("is generated inside the object, stored at its hash, and leaves no staging object", async ({ expect }) => {
    const stub = env.REPOSITORY.get(env.REPOSITORY.idFromName(REPO));
    await stub.configure({ id: REPO, mayReuseVersions: false, retentionSeconds: 86_400, baseUrl: "https://x.example" });
    const shas: string[] = [];
    for (let i = 0; i < 700; i++) {
      shas.push(must(await stub.registerPackage(fakeUpload(i))).package.sha256);
    }
    for (let i = 0; i < shas.length; i += 500) {
      must(
        await stub.addPackages({ release: null, dist: "stable", component: "main", packages: shas.slice(i, i + 500) }),
      );
    }
    // An upload lands while the index streams: generate must notice and still describe one generation.
    const late = fakeUpload(9999);
    const [generated] = await Promise.all([
      stub.generate("stable"),
      (async () => {
        const sha = must(await stub.registerPackage(late)).package.sha256;
        must(await stub.addPackages({ release: null, dist: "stable", component: "main", packages: [sha] }));
      })(),
    ]);
    const text = must(generated).document.release_text;
    const line = text.split("\n").find((l) => /^ [0-9a-f]{64} +\d+ main\/binary-amd64\/Packages$/.test(l)) ?? "";
    const [, sha, size] = line.trim().match(/^([0-9a-f]{64}) +(\d+)/) ?? [];
    expect(Number(size)).toBeGreaterThan(PART_SIZE);
    const stored = await env.BLOBS.get(`repos/${REPO}/blobs/sha256/${sha}`);
    const bytes = new Uint8Array((await stored?.arrayBuffer()) ?? new ArrayBuffer(0));
    expect(hashBytes(bytes).sha256).toBe(sha);
    const stanzas = new TextDecoder()
      .decode(bytes)
      .split("\n\n")
      .filter((x) => x !== "");
    expect(stanzas).toHaveLength(701);
    const staging = await env.BLOBS.list({ prefix: `repos/${REPO}/staging/` });
    expect(staging.objects).toEqual([]);
    const stats: Record<string, unknown> = must(await stub.stats());
    expect(stats.dirty).toEqual([]);
  });
});
