import { env } from "cloudflare:workers";
import { describe, it } from "vitest";
import {
  apt,
  call,
  createRepo,
  generate,
  json,
  makeDeb,
  publish,
  push,
  sign,
  submit,
  type TestDeb,
  uniqueRepo,
  uploadDeb,
} from "../helpers/armor.ts";

function stamp(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19).replace(/[-:]/g, "")}Z`;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function packagesOf(repo: string, prefix = ""): Promise<string[]> {
  const res = await apt(repo, `${prefix}dists/stable/main/binary-amd64/Packages`);
  if (res.status !== 200) throw new Error(`Packages: ${res.status} ${await res.text()}`);
  const names: string[] = [];
  let name = "";
  for (const line of (await res.text()).split("\n")) {
    if (line.startsWith("Package: ")) name = line.slice(9);
    if (line.startsWith("Version: ")) names.push(`${name} ${line.slice(9)}`);
  }
  return names;
}

describe("releases", () => {
  it("refuses a stale signature when uploads race a publish, and loses nothing", async ({ expect }) => {
    const repo = uniqueRepo("race");
    await createRepo(repo);
    await push(repo, "stable", "main", [makeDeb("first", "1.0", "amd64")]);
    const { document } = await generate(repo, "stable");
    const signed = await sign(document);

    // Two uploads land between generate and submit: the signature is now over an old generation.
    const racers = [makeDeb("second", "1.0", "amd64"), makeDeb("third", "1.0", "amd64")];
    await Promise.all(racers.map((d) => push(repo, "stable", "main", [d])));
    const stale = await submit(repo, "stable", signed);
    expect(stale.status).toBe(409);
    expect((await json<{ error: { code: string } }>(stale)).error.code).toBe("stale_generation");

    // Uploads racing a full publish: retry on stale_generation, as the CLI tells the user to.
    const more: TestDeb[] = [makeDeb("fourth", "1.0", "amd64"), makeDeb("fifth", "1.0", "amd64")];
    const publishing = (async () => {
      for (let attempt = 0; attempt < 10; attempt++) {
        const { document: doc } = await generate(repo, "stable");
        const res = await submit(repo, "stable", await sign(doc));
        if (res.status === 200) return json<{ activated: boolean }>(res);
        const code = (await json<{ error: { code: string } }>(res)).error.code;
        if (code !== "stale_generation") throw new Error(code);
      }
      throw new Error("never published");
    })();
    await Promise.all([...more.map((d) => push(repo, "stable", "main", [d])), publishing]);
    // Whatever landed after the publish is in the next open release; publish it too.
    const open = await json<{ releases: { id: string; state: string }[] }>(
      await call(`/api/v1/repositories/${repo}/releases`),
    );
    if (open.releases.some((r) => r.state === "open")) await publish(repo, ["stable"]);

    expect((await packagesOf(repo)).sort()).toEqual([
      "fifth 1.0",
      "first 1.0",
      "fourth 1.0",
      "second 1.0",
      "third 1.0",
    ]);
  });

  it("answers any timestamp before the first activation with snapshot_not_found", async ({ expect }) => {
    const repo = uniqueRepo("unpublished");
    await createRepo(repo);
    for (const at of [Date.now() - 60_000, Date.now(), Date.now() + 3_600_000]) {
      const res = await apt(repo, `${stamp(at)}/dists/stable/InRelease`);
      expect(res.status).toBe(404);
      expect(await json(res)).toMatchObject({ error: { code: "snapshot_not_found" } });
    }
  });

  it("serves the release active at a timestamp, and logs a rollback as an activation", async ({ expect }) => {
    const repo = uniqueRepo("snapshots");
    await createRepo(repo);
    const versions = ["1.0", "2.0", "3.0"];
    for (const [i, v] of versions.entries()) {
      await push(repo, "stable", "main", [makeDeb("hello", v, "amd64")]);
      await publish(repo, ["stable"]);
      if (i < versions.length - 1) await sleep(1100);
    }
    await sleep(1100);
    const log = await json<{ activations: { release: string; visible_at: string }[] }>(
      await call(`/api/v1/repositories/${repo}/activations`),
    );
    const activations = log.activations.reverse();
    expect(activations.map((a) => a.release)).toEqual(["r1", "r2", "r3"]);
    for (const [i, a] of activations.entries()) {
      const ts = stamp(Date.parse(a.visible_at));
      const expected = versions.slice(0, i + 1).map((v) => `hello ${v}`);
      expect(await packagesOf(repo, `${ts}/`), ts).toEqual(expected);
      const res = await apt(repo, `${ts}/dists/stable/InRelease`);
      expect(res.headers.get("cache-control")).toBe("max-age=31536000, immutable");
      const pool = await apt(repo, `${ts}/pool/main/h/hello/hello_${versions[i]}_amd64.deb`);
      expect(pool.status).toBe(200);
    }
    const before = stamp(Date.parse(activations[0]?.visible_at ?? "") - 5000);
    const early = await apt(repo, `${before}/dists/stable/InRelease`);
    expect(early.status).toBe(404);
    expect((await json<{ error: { code: string } }>(early)).error.code).toBe("snapshot_not_found");
    // Any timestamp is a snapshot ID: one not yet past names the release active now, revalidated
    // like the dists files since another may still activate.
    for (const at of [Date.now(), Date.now() + 3_600_000]) {
      const future = await apt(repo, `${stamp(at)}/dists/stable/InRelease`);
      expect(future.status).toBe(200);
      expect(future.headers.get("cache-control")).toBe("max-age=1800, proxy-revalidate");
      expect(await future.text()).toBe(await (await apt(repo, "dists/stable/InRelease")).text());
      expect(await packagesOf(repo, `${stamp(at)}/`)).toEqual(await packagesOf(repo));
    }
    const invalid = await apt(repo, "20261399T000000Z/dists/stable/InRelease");
    expect(invalid.status).toBe(400);

    // Rollback: activate r1 again.
    const rollback = await call(`/api/v1/repositories/${repo}/releases/r1/activate`, { method: "POST" });
    expect(rollback.status).toBe(200);
    expect(await json(rollback)).toMatchObject({ release: "r1", previous: "r3" });
    expect(await packagesOf(repo)).toEqual(["hello 1.0"]);
    const after = await json<{ activations: { release: string; previous: string | null }[] }>(
      await call(`/api/v1/repositories/${repo}/activations`),
    );
    expect(after.activations[0]).toMatchObject({ release: "r1", previous: "r3" });
    expect(after.activations).toHaveLength(4);
    const row = await env.DB.prepare("SELECT active_release FROM repositories WHERE id = ?").bind(repo).first();
    expect(row?.active_release).toBe("r1");
  });

  it("creates, lists, shows and diffs releases, and activates only when every changed dist is signed", async ({
    expect,
  }) => {
    const repo = uniqueRepo("lifecycle");
    await createRepo(repo);
    await push(repo, "stable", "main", [makeDeb("hello", "1.0", "amd64"), makeDeb("tool", "1.0", "amd64")]);
    await push(repo, "testing", "main", [makeDeb("hello", "1.0", "amd64")]);
    expect(await publish(repo, ["stable", "testing"])).toMatchObject({ release: "r1", activated: true });

    const second = await call(`/api/v1/repositories/${repo}/releases`, { method: "POST", body: "{}" });
    expect(second.status).toBe(201);
    expect(await json(second)).toMatchObject({ id: "r2", state: "open", parent: "r1", generation: 0 });
    const again = await call(`/api/v1/repositories/${repo}/releases`, { method: "POST", body: "{}" });
    expect(again.status).toBe(409);
    expect((await json<{ error: { code: string } }>(again)).error.code).toBe("release_open");

    const hello2 = makeDeb("hello", "2.0", "amd64");
    await push(repo, "stable", "main", [hello2]);
    const removed = await call(`/api/v1/repositories/${repo}/packages/remove`, {
      method: "POST",
      body: JSON.stringify({ dist: "stable", name: "tool" }),
    });
    expect(removed.status).toBe(200);

    const diff = await json<{ added: { name: string; version: string }[]; removed: { name: string }[] }>(
      await call(`/api/v1/repositories/${repo}/releases/r1/diff/r2`),
    );
    expect(diff.added.map((p) => `${p.name} ${p.version}`)).toEqual(["hello 2.0"]);
    expect(diff.removed.map((p) => p.name)).toEqual(["tool"]);

    const early = await call(`/api/v1/repositories/${repo}/releases/r2/activate`, { method: "POST" });
    expect(early.status).toBe(409);
    expect(await json(early)).toMatchObject({
      error: { code: "release_unsigned", details: { unsigned_dists: ["stable"] } },
    });

    const { document } = await generate(repo, "stable");
    const staged = await submit(repo, "stable", await sign(document), "?activate=false");
    expect(await json(staged)).toMatchObject({ activated: false, unsigned_dists: [] });
    const show = await json<{ state: string; unsigned_dists: string[]; dists: { dist: string; changed: boolean }[] }>(
      await call(`/api/v1/repositories/${repo}/releases/r2`),
    );
    expect(show.state).toBe("open");
    expect(show.dists.map((d) => [d.dist, d.changed])).toEqual([
      ["stable", true],
      ["testing", false],
    ]);
    expect(await packagesOf(repo)).toEqual(["hello 1.0", "tool 1.0"]);

    const activated = await call(`/api/v1/repositories/${repo}/releases/r2/activate`, { method: "POST" });
    expect(await json(activated)).toMatchObject({ release: "r2", previous: "r1" });
    expect(await packagesOf(repo)).toEqual(["hello 1.0", "hello 2.0"]);
    // testing was not changed: it is served with the signature it had in r1.
    expect(await (await apt(repo, "dists/testing/InRelease")).text()).toContain("Suite: testing");

    const list = await json<{ releases: { id: string; state: string }[] }>(
      await call(`/api/v1/repositories/${repo}/releases`),
    );
    expect(list.releases.map((r) => [r.id, r.state])).toEqual([
      ["r2", "active"],
      ["r1", "retired"],
    ]);
    // The retired release's files stay servable by snapshot and its pool files by path.
    expect((await apt(repo, "pool/main/t/tool/tool_1.0_amd64.deb")).status).toBe(200);
  });

  it("does not report an activation done until the edge's pointer in D1 is written", async ({ expect }) => {
    const repo = uniqueRepo("pointer");
    await createRepo(repo);
    await push(repo, "stable", "main", [makeDeb("hello", "1.0", "amd64")]);
    await publish(repo, ["stable"]);
    await push(repo, "stable", "main", [makeDeb("hello", "2.0", "amd64")]);
    const { document } = await generate(repo, "stable");

    // Make the pointer write fail: D1 refuses to change this repository's row.
    await env.DB.prepare(
      `CREATE TRIGGER pointer_down BEFORE UPDATE OF active_release ON repositories WHEN NEW.id = '${repo}'
       BEGIN SELECT RAISE(ABORT, 'D1 is down (test)'); END`,
    ).run();
    const res = await submit(repo, "stable", await sign(document));
    expect(res.status).toBe(503);
    expect(await json(res)).toMatchObject({ error: { code: "activation_pending", details: { release: "r2" } } });
    await env.DB.prepare("DROP TRIGGER pointer_down").run();
    // Still the old release at the edge: the activation was never half-visible.
    expect(await packagesOf(repo)).toEqual(["hello 1.0"]);
    const log = await json<{ activations: { release: string; visible_at: string | null }[] }>(
      await call(`/api/v1/repositories/${repo}/activations`),
    );
    expect(log.activations[0]).toMatchObject({ release: "r2", visible_at: null });

    // Retrying the activation completes it.
    const retry = await call(`/api/v1/repositories/${repo}/releases/r2/activate`, { method: "POST" });
    expect(retry.status).toBe(200);
    expect(await packagesOf(repo)).toEqual(["hello 1.0", "hello 2.0"]);
  });
});

describe("uploads", () => {
  it("answers whether a package is already uploaded, and skips the body when it is", async ({ expect }) => {
    const repo = uniqueRepo("exists");
    await createRepo(repo);
    const deb = makeDeb("hello", "1.0", "amd64");
    expect((await call(`/api/v1/repositories/${repo}/blobs/${deb.sha256}`, { method: "HEAD" })).status).toBe(404);
    const created = await uploadDeb(repo, deb);
    expect(created.status).toBe(201);
    expect(await json(created)).toMatchObject({
      created: true,
      package: { name: "hello", version: "1.0", architecture: "amd64", sha256: deb.sha256, size: deb.size },
    });
    expect((await call(`/api/v1/repositories/${repo}/blobs/${deb.sha256}`, { method: "HEAD" })).status).toBe(200);
    const other = uniqueRepo("other");
    await createRepo(other);
    expect((await call(`/api/v1/repositories/${other}/blobs/${deb.sha256}`, { method: "HEAD" })).status).toBe(404);
  });

  it("takes a large package in parts through the multipart API", async ({ expect }) => {
    const repo = uniqueRepo("multipart");
    await createRepo(repo);
    const noise = new Uint8Array(6 * 1024 * 1024);
    for (let i = 0; i < noise.length; i += 65536) crypto.getRandomValues(noise.subarray(i, i + 65536));
    const { buildDeb } = await import("../../deb/deb-writer.ts");
    const { hashBytes } = await import("../../deb/hash.ts");
    const bytes = buildDeb({
      fields: [
        { name: "Package", value: "big" },
        { name: "Version", value: "1.0" },
        { name: "Architecture", value: "amd64" },
        { name: "Maintainer", value: "Armor Tests <tests@armor.invalid>" },
        { name: "Description", value: "a package larger than one part" },
      ],
      files: [{ path: "/usr/share/big/noise", data: noise }],
    });
    const sha256 = hashBytes(bytes).sha256;
    const start = await call(`/api/v1/repositories/${repo}/uploads`, {
      method: "POST",
      body: JSON.stringify({ sha256, size: bytes.length }),
    });
    expect(start.status).toBe(201);
    const { upload_id, part_size } = await json<{ upload_id: string; part_size: number }>(start);
    const parts: { part_number: number; etag: string }[] = [];
    for (let n = 1, at = 0; at < bytes.length; n++, at += part_size) {
      const chunk = bytes.slice(at, at + part_size);
      const res = await call(
        `/api/v1/repositories/${repo}/uploads/${sha256}/parts/${n}?upload_id=${encodeURIComponent(upload_id)}`,
        { method: "PUT", body: chunk, headers: { "content-length": String(chunk.length) } },
      );
      expect(res.status).toBe(200);
      parts.push(await json(res));
    }
    expect(parts).toHaveLength(2);
    const done = await call(`/api/v1/repositories/${repo}/uploads/${sha256}/complete`, {
      method: "POST",
      body: JSON.stringify({ upload_id, parts }),
    });
    expect(done.status).toBe(201);
    expect(await json(done)).toMatchObject({ package: { name: "big", sha256, size: bytes.length } });
    await push(repo, "stable", "main", [{ bytes, sha256, md5: "", size: bytes.length }]);
    await publish(repo, ["stable"]);
    const served = await apt(repo, "pool/main/b/big/big_1.0_amd64.deb", { headers: { range: "bytes=-16" } });
    expect(served.status).toBe(206);
    expect(new Uint8Array(await served.arrayBuffer())).toEqual(bytes.slice(-16));
  });

  it("refuses parts that do not make the declared package, and stores nothing", async ({ expect }) => {
    const repo = uniqueRepo("multipart-bad");
    await createRepo(repo);
    const deb = makeDeb("hello", "1.0", "amd64");
    const start = await call(`/api/v1/repositories/${repo}/uploads`, {
      method: "POST",
      body: JSON.stringify({ sha256: "1".repeat(64), size: deb.size }),
    });
    const { upload_id } = await json<{ upload_id: string }>(start);
    const part = await call(
      `/api/v1/repositories/${repo}/uploads/${"1".repeat(64)}/parts/1?upload_id=${encodeURIComponent(upload_id)}`,
      {
        method: "PUT",
        body: deb.bytes,
        headers: { "content-length": String(deb.size) },
      },
    );
    const done = await call(`/api/v1/repositories/${repo}/uploads/${"1".repeat(64)}/complete`, {
      method: "POST",
      body: JSON.stringify({ upload_id, parts: [await json(part)] }),
    });
    expect(done.status).toBe(400);
    expect((await json<{ error: { code: string } }>(done)).error.code).toBe("hash_mismatch");
    expect((await env.BLOBS.list({ prefix: `repos/${repo}/` })).objects).toEqual([]);
  });
});

describe("discarding the open release", () => {
  it("drops its changes, keeps the active release, and never gives its id to another", async ({ expect }) => {
    const repo = uniqueRepo("discard");
    await createRepo(repo);
    await push(repo, "stable", "main", [makeDeb("hello", "1.0", "amd64")]);
    await publish(repo, ["stable"]);
    const served = await (await apt(repo, "dists/stable/InRelease")).text();
    await push(repo, "stable", "main", [makeDeb("hello", "2.0", "amd64")]);
    const { document } = await generate(repo, "stable");
    expect(document.release).toBe("r2");

    const active = await call(`/api/v1/repositories/${repo}/releases/r1`, { method: "DELETE" });
    expect(active.status).toBe(409);
    expect(await json(active)).toMatchObject({ error: { code: "release_immutable" } });
    const discarded = await call(`/api/v1/repositories/${repo}/releases/r2`, { method: "DELETE" });
    expect(discarded.status).toBe(200);
    expect(await json(discarded)).toEqual({ discarded: "r2", parent: "r1" });
    expect((await call(`/api/v1/repositories/${repo}/releases/r2`, { method: "DELETE" })).status).toBe(404);

    // The active release is as it was, and a document signed for the discarded one is refused.
    expect(await (await apt(repo, "dists/stable/InRelease")).text()).toBe(served);
    const late = await submit(repo, "stable", await sign(document));
    expect(late.status).toBeGreaterThanOrEqual(400);
    const listed = await json<{ releases: { id: string; state: string }[] }>(
      await call(`/api/v1/repositories/${repo}/releases`),
    );
    expect(listed.releases.map((r) => [r.id, r.state])).toEqual([["r1", "active"]]);
    // The next release is r3, never r2 again.
    await push(repo, "stable", "main", [makeDeb("hello", "3.0", "amd64")]);
    const next = await generate(repo, "stable");
    expect(next.document.release).toBe("r3");
    const stale = await submit(repo, "stable", await sign(document));
    expect(stale.status).toBeGreaterThanOrEqual(400);
    await publish(repo, ["stable"]);
    expect(await packagesOf(repo)).toEqual(["hello 1.0", "hello 3.0"]);
  });
});
