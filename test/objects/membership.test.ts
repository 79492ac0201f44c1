/**
 * Membership kept as key-ranged segments shared between releases (objects/repository/membership.ts):
 * a dist is cut into segments that tile its keys, a release opened on top of an activated one
 * shares every segment and copies only those it changes, and retiring a release frees only what
 * no other release shares.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { gunzipSync } from "node:zlib";
import { describe, it } from "vitest";
import { hashBytes } from "../../deb/hash.ts";
import { MIGRATIONS, migrate } from "../../objects/repository/migrations.ts";
import { SEGMENT_ROWS } from "../../objects/repository/segments.ts";
import { apt, call, createRepo, json, publish, stubOf, uidOf, uniqueRepo } from "../helpers/armor.ts";
import { must, removeFromStable } from "../helpers/repository-object.ts";

function upload(name: string, version = "1.0", architecture = "amd64") {
  return {
    file: `${name}_${version}_${architecture}.deb`,
    control: {
      package: name,
      version,
      architecture,
      source: name,
      fields: [
        { name: "Package", value: name },
        { name: "Version", value: version },
        { name: "Architecture", value: architecture },
        { name: "Maintainer", value: "Armor Tests <tests@armor.invalid>" },
        { name: "Description", value: `${name}, one of many` },
      ],
    },
    hashes: hashBytes(new TextEncoder().encode(`${name} ${version} ${architecture}`)),
  };
}

/**
 * Back to the schema before migration 7: no stanza beside each member, no index by architecture.
 * Its record is removed with it, and migrating again runs what is not recorded: migration 7 alone.
 */
function undoMigration7(sql: SqlStorage): void {
  sql.exec("DROP INDEX segment_members_architecture");
  sql.exec("ALTER TABLE segment_members DROP COLUMN stanza");
}

/** The package names of the active release's stable/main/binary-amd64 index, as apt reads them. */
async function servedNames(repo: string): Promise<string[]> {
  // Several chunks: only Packages.gz is served (the plain Packages is listed in the Release only).
  const res = await apt(repo, "dists/stable/main/binary-amd64/Packages.gz");
  if (res.status !== 200) throw new Error(`Packages.gz: ${res.status} ${await res.text()}`);
  const text = gunzipSync(new Uint8Array(await res.arrayBuffer())).toString("utf8");
  return [...text.matchAll(/^Package: (.+)$/gm)].map((m) => m[1] as string);
}

type Segment = {
  release_id: string;
  component: string;
  start: string;
  segment: number;
  owned: number;
  rows: number;
  first: string | null;
  last: string | null;
};

/** A repository created through the API, with direct access to its object for bulk registration. */
async function repository(prefix: string) {
  const id = uniqueRepo(prefix);
  await createRepo(id);
  const stub = await stubOf(id);
  return {
    id,
    stub,
    /** Register packages in batches and add them to stable/`component` of the open release. */
    async add(uploads: ReturnType<typeof upload>[], component = "main"): Promise<void> {
      for (let i = 0; i < uploads.length; i += 1000) {
        must(await stub.registerPackages(uploads.slice(i, i + 1000)));
      }
      must(
        await stub.addPackages({
          release: null,
          dist: "stable",
          component,
          packages: uploads.map((u) => u.hashes.sha256),
        }),
      );
    },
    remove: (name: string) => removeFromStable(stub, name),
    /** Every release's segments with their row counts and first and last keys, in key order. */
    segments: () =>
      runInDurableObject(stub, (_instance, state) =>
        state.storage.sql
          .exec<Segment>(
            `SELECT s.release_id, s.component, s.start_name || ' ' || s.start_version || ' ' || s.start_architecture AS start,
               s.segment, s.owned, count(m.name) AS rows,
               min(m.name || ' ' || m.version || ' ' || m.architecture) AS first,
               max(m.name || ' ' || m.version || ' ' || m.architecture) AS last
             FROM member_segments s LEFT JOIN segment_members m ON m.segment = s.segment
             GROUP BY s.release_id, s.dist, s.component, s.start_name, s.start_version, s.start_architecture
             ORDER BY s.release_id, s.component, s.start_name, s.start_version, s.start_architecture`,
          )
          .toArray(),
      ),
    storedRows: () =>
      runInDurableObject(
        stub,
        (_instance, state) =>
          state.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM segment_members").one().n,
      ),
  };
}

/** Five-digit names sort as numbers, so key order is index order (one version and architecture each). */
const many = (n: number, from = 0) =>
  Array.from({ length: n }, (_, i) => upload(`pkg-${String(from + i * 2).padStart(5, "0")}`));

describe("membership segments", () => {
  it("cut a large dist into segments that tile its keys, none over twice the segment size", async ({ expect }) => {
    const repo = await repository("segments");
    await repo.add(many(5000));
    const segments = await repo.segments();
    expect(new Set(segments.map((s) => s.release_id)).size).toBe(1);
    expect(segments.length).toBeGreaterThanOrEqual(Math.ceil(5000 / (2 * SEGMENT_ROWS)));
    expect(segments[0]?.start).toBe("  ");
    expect(segments.reduce((n, s) => n + s.rows, 0)).toBe(5000);
    for (const [i, s] of segments.entries()) {
      expect(s.rows).toBeGreaterThan(0);
      expect(s.rows).toBeLessThanOrEqual(2 * SEGMENT_ROWS);
      // Each segment's keys lie between its start and the next segment's start.
      expect(s.first !== null && s.first >= s.start).toBe(true);
      const next = segments[i + 1];
      if (next !== undefined) expect(s.last !== null && s.last < next.start).toBe(true);
    }

    // Packages still come out whole and in key order, across segment boundaries.
    await publish(repo.id, ["stable"]);
    expect(await servedNames(repo.id)).toEqual(many(5000).map((u) => u.control.package));
  });

  it("are shared by a new release, which copies only the segment it changes", async ({ expect }) => {
    const repo = await repository("shared");
    await repo.add(many(3000));
    await publish(repo.id, ["stable"]);
    const before = await repo.segments();
    const rowsBefore = await repo.storedRows();

    // One package in the middle of the key space, on top of the activated release.
    await repo.add([upload("pkg-03001")]);
    const after = await repo.segments();
    const [first, second] = [...new Set(after.map((s) => s.release_id))];
    const parent = after.filter((s) => s.release_id === first);
    const child = after.filter((s) => s.release_id === second);
    expect(parent).toEqual(before);
    expect(child.map((s) => s.start)).toEqual(parent.map((s) => s.start));
    const changed = child.filter((s, i) => s.segment !== parent[i]?.segment);
    expect(changed).toHaveLength(1);
    expect(changed[0]?.owned).toBe(1);
    expect(child.filter((s) => s.owned === 0)).toHaveLength(child.length - 1);
    // The copy is one segment's rows plus the new member, not the whole dist.
    const copied = (await repo.storedRows()) - rowsBefore;
    expect(copied).toBe(changed[0]?.rows ?? 0);
    expect(copied).toBeLessThanOrEqual(2 * SEGMENT_ROWS + 1);

    // A diff compares only what the releases do not share, and still finds the change both ways.
    const diff = await call(`/api/v1/repositories/${repo.id}/releases/${first}/diff/${second}`);
    expect(diff.status).toBe(200);
    const body = await json<{
      added: { name: string }[];
      removed: unknown[];
      added_count: number;
      removed_count: number;
    }>(diff);
    expect(body.added.map((p) => p.name)).toEqual(["pkg-03001"]);
    expect(body.added_count).toBe(1);
    expect(body.removed_count).toBe(0);

    // The child, published with one package more and one less, serves exactly that.
    await repo.remove("pkg-00000");
    await publish(repo.id, ["stable"]);
    const names = await servedNames(repo.id);
    expect(names).toHaveLength(3000);
    expect(names).toContain("pkg-03001");
    expect(names).not.toContain("pkg-00000");
  });

  it("of a component go when its last member does, and it leaves the Release", async ({ expect }) => {
    const repo = await repository("emptied");
    await repo.add(many(3));
    await repo.add([upload("extra")], "contrib");
    await publish(repo.id, ["stable"]);
    expect((await repo.segments()).filter((s) => s.component === "contrib")).toHaveLength(1);

    await repo.remove("extra");
    const segments = await repo.segments();
    const open = segments.filter((s) => s.release_id !== segments[0]?.release_id);
    expect(open.length).toBeGreaterThan(0);
    expect(open.filter((s) => s.component === "contrib")).toEqual([]);
    await publish(repo.id, ["stable"]);
    const release = await (await apt(repo.id, "dists/stable/Release")).text();
    expect(release).toMatch(/^Components: main$/m);
    expect(release).not.toContain("contrib/");
  });

  it("are freed with the last release that references them, and only then", async ({ expect }) => {
    const repo = await repository("freed");
    must(
      await repo.stub.configure({
        id: repo.id,
        uid: await uidOf(repo.id),
        mayReuseVersions: false,
        retentionSeconds: 0,
        baseUrl: "https://x.example",
      }),
    );
    await repo.add(many(3000));
    await publish(repo.id, ["stable"]);
    await repo.add([upload("pkg-03001")]);
    await publish(repo.id, ["stable"]);
    const gc = must(await repo.stub.gc({ graceSeconds: 0 }));
    expect(gc.releases_deleted).toHaveLength(1);
    // Only the active release is left: what is stored is exactly its membership.
    const left = await repo.segments();
    expect(new Set(left.map((s) => s.release_id)).size).toBe(1);
    expect(await repo.storedRows()).toBe(3001);
    expect(left.reduce((n, s) => n + s.rows, 0)).toBe(3001);
    const stats: Record<string, unknown> = must(await repo.stub.stats());
    expect(stats).toMatchObject({ memberships: 3001, membership_rows: 3001 });
  });

  it("render packages uploaded before migration 4 stored their stanzas, byte for byte", async ({ expect }) => {
    const repo = await repository("legacy-stanzas");
    const uploads = many(3);
    await repo.add(uploads);
    await publish(repo.id, ["stable"]);
    const packages = async () => (await apt(repo.id, "dists/stable/main/binary-amd64/Packages")).text();
    const stored = await packages();
    expect(stored).toMatch(/^Filename: pool\/main\/p\/pkg-00002\/pkg-00002_1\.0_amd64\.deb\nSize: \d+\nMD5sum: /m);
    await runInDurableObject(repo.stub, (_instance, state) => {
      // As such a package was stored: its control fields as JSON pairs, no stanza, and so none
      // beside its membership either (migration 7 copies it from the package).
      for (const u of uploads) {
        state.storage.sql.exec(
          "UPDATE packages SET stanza_head = NULL, stanza_tail = NULL, fields = ? WHERE sha256 = ?",
          JSON.stringify(u.control.fields.map((f) => [f.name, f.value])),
          u.hashes.sha256,
        );
        state.storage.sql.exec("UPDATE segment_members SET stanza = NULL WHERE sha256 = ?", u.hashes.sha256);
      }
      // Such a repository is brought up to date by migration 10, which renders their stanzas.
      state.storage.sql.exec("DELETE FROM _migrations WHERE id = 10");
      migrate(state.storage);
    });
    must(await repo.stub.reindex());
    await publish(repo.id, ["stable"]);
    expect(await packages()).toBe(stored);
  });

  it("keep a package's control text once: migration 6 empties the JSON copy of what the stanza holds", async ({
    expect,
  }) => {
    const repo = await repository("fields-once");
    const uploads = many(2);
    await repo.add(uploads);
    const [fresh, migrated] = await runInDurableObject(repo.stub, (_instance, state) => {
      const fields = () =>
        state.storage.sql
          .exec<{ fields: string; stanza: number }>(
            "SELECT fields, stanza_head IS NOT NULL AS stanza FROM packages ORDER BY name",
          )
          .toArray();
      const now = fields();
      // Back to before migration 6: a JSON copy beside the stanza, and one package from before
      // migration 4 with no stanza, whose JSON must stay.
      const [a, b] = uploads;
      const json = (u: typeof a) => JSON.stringify(u?.control.fields.map((f) => [f.name, f.value]));
      state.storage.sql.exec("UPDATE packages SET fields = ? WHERE sha256 = ?", json(a), a?.hashes.sha256 ?? "");
      state.storage.sql.exec(
        "UPDATE packages SET fields = ?, stanza_head = NULL, stanza_tail = NULL WHERE sha256 = ?",
        json(b),
        b?.hashes.sha256 ?? "",
      );
      // Migration 7 runs again too, after it.
      undoMigration7(state.storage.sql);
      state.storage.sql.exec("DELETE FROM _migrations WHERE id IN (6, 7)");
      migrate(state.storage);
      return [now, fields()];
    });
    expect(fresh).toEqual([
      { fields: "", stanza: 1 },
      { fields: "", stanza: 1 },
    ]);
    expect(migrated[0]).toEqual({ fields: "", stanza: 1 });
    expect(migrated[1]?.stanza).toBe(0);
    expect(JSON.parse(migrated[1]?.fields ?? "")).toContainEqual(["Package", "pkg-00002"]);
  });

  it("yield every architecture of a dist to generate, whichever segment holds it", async ({ expect }) => {
    const repo = await repository("architectures");
    // One arm64 package in a middle segment, `all` packages in the first and last.
    await repo.add([...many(3000), upload("pkg-03001", "1.0", "arm64"), upload("aaa", "1.0", "all")]);
    await repo.add([upload("zzz", "1.0", "all")]);
    expect(new Set((await repo.segments()).map((s) => s.segment)).size).toBeGreaterThan(2);
    await publish(repo.id, ["stable"]);
    const release = await (await apt(repo.id, "dists/stable/Release")).text();
    expect(release).toMatch(/^Architectures: amd64 arm64$/m);
    const arm64 = await (await apt(repo.id, "dists/stable/main/binary-arm64/Packages")).text();
    expect([...arm64.matchAll(/^Package: (.+)$/gm)].map((m) => m[1])).toEqual(["aaa", "pkg-03001", "zzz"]);
    expect(await servedNames(repo.id)).toHaveLength(3002);
    // Taken out again, arm64 has no index left.
    await repo.remove("pkg-03001");
    await publish(repo.id, ["stable"]);
    expect(await (await apt(repo.id, "dists/stable/Release")).text()).toMatch(/^Architectures: amd64$/m);
  });

  it("carry their stanzas as the index lists them: migration 7 fills them in for existing members", async ({
    expect,
  }) => {
    const repo = await repository("member-stanzas");
    const uploads = many(3);
    await repo.add(uploads);
    await publish(repo.id, ["stable"]);
    const packages = async () => (await apt(repo.id, "dists/stable/main/binary-amd64/Packages")).text();
    const served = await packages();
    const stanzas = () =>
      runInDurableObject(repo.stub, (_instance, state) =>
        state.storage.sql
          .exec<{ stanza: string | null }>("SELECT stanza FROM segment_members ORDER BY name")
          .toArray()
          .map((r) => r.stanza),
      );
    // Written at upload: each is the member's stanza in the served index, Filename and all.
    const written = await stanzas();
    expect(written.map((s) => `${s}\n`).join("")).toBe(served);
    const legacy = uploads[2];
    await runInDurableObject(repo.stub, (_instance, state) => {
      // Back to before migration 7, with one package from before migration 4 (no stored stanza).
      state.storage.sql.exec(
        "UPDATE packages SET stanza_head = NULL, stanza_tail = NULL, fields = ? WHERE sha256 = ?",
        JSON.stringify(legacy?.control.fields.map((f) => [f.name, f.value])),
        legacy?.hashes.sha256 ?? "",
      );
      undoMigration7(state.storage.sql);
      state.storage.sql.exec("DELETE FROM _migrations WHERE id = 7");
      migrate(state.storage);
    });
    expect(await stanzas()).toEqual([written[0], written[1], null]);
    // The legacy package's stanza is rendered from its fields: the index is the same, byte for byte.
    // (Rendered by migration 10, which such a repository then runs.)
    await runInDurableObject(repo.stub, (_instance, state) => {
      state.storage.sql.exec("DELETE FROM _migrations WHERE id = 10");
      migrate(state.storage);
    });
    must(await repo.stub.reindex());
    await publish(repo.id, ["stable"]);
    expect(await packages()).toBe(served);
    // A member written without its stanza after migration 7, as a Worker rolled back to code from
    // before it writes one: rendered from its package's.
    await runInDurableObject(repo.stub, (_instance, state) => {
      state.storage.sql.exec(
        "UPDATE segment_members SET stanza = NULL WHERE sha256 = ?",
        uploads[0]?.hashes.sha256 ?? "",
      );
    });
    must(await repo.stub.reindex());
    await publish(repo.id, ["stable"]);
    expect(await packages()).toBe(served);
  });

  it("are made by migration 3 from the rows that held membership before", async ({ expect }) => {
    const stub = env.REPOSITORY.get(env.REPOSITORY.idFromName("migrate/segments"));
    const [rows, segments, members] = await runInDurableObject(stub, (_instance, state) => {
      const sql = state.storage.sql;
      // Back to the schema before migration 3: its members table, with two releases' rows.
      sql.exec("DROP VIEW release_members; DROP TABLE segment_members; DROP TABLE member_segments;");
      const create = MIGRATIONS[0]?.sql.match(/CREATE TABLE members \([\s\S]*?\) WITHOUT ROWID;/)?.[0];
      if (create === undefined) throw new Error("migration 1 no longer creates the members table");
      sql.exec(create);
      const insert = (release: string, component: string, name: string, sha: string) =>
        sql.exec(
          "INSERT INTO members VALUES (?, 'stable', ?, ?, '1.0', 'amd64', ?, ?)",
          release,
          component,
          name,
          sha,
          `pool/${component}/${name}.deb`,
        );
      for (let i = 0; i < 2500; i++) {
        const name = `pkg-${String(i).padStart(5, "0")}`;
        insert("r1", "main", name, `a${i}`);
        insert("r2", "main", name, i === 7 ? "changed" : `a${i}`);
      }
      for (const name of ["x", "y", "z"]) insert("r1", "contrib", name, name);
      sql.exec(MIGRATIONS[2]?.sql ?? "");
      return [
        sql.exec<{ n: number }>("SELECT count(*) AS n FROM segment_members").one().n,
        sql
          .exec<{ release_id: string; component: string; start_name: string; n: number }>(
            `SELECT s.release_id, s.component, s.start_name, count(*) AS n FROM member_segments s
             JOIN segment_members m ON m.segment = s.segment GROUP BY s.segment ORDER BY 1, 2, 3`,
          )
          .toArray(),
        sql
          .exec<{ sha256: string }>("SELECT sha256 FROM release_members WHERE release_id = 'r2' AND name = 'pkg-00007'")
          .toArray(),
      ] as const;
    });
    expect(rows).toBe(5003);
    expect(segments).toEqual([
      { release_id: "r1", component: "contrib", start_name: "", n: 3 },
      { release_id: "r1", component: "main", start_name: "", n: 1024 },
      { release_id: "r1", component: "main", start_name: "pkg-01024", n: 1024 },
      { release_id: "r1", component: "main", start_name: "pkg-02048", n: 452 },
      { release_id: "r2", component: "main", start_name: "", n: 1024 },
      { release_id: "r2", component: "main", start_name: "pkg-01024", n: 1024 },
      { release_id: "r2", component: "main", start_name: "pkg-02048", n: 452 },
    ]);
    expect(members).toEqual([{ sha256: "changed" }]);
  });
});
