import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, it } from "vitest";
import { migrate, readMigrations } from "../../sidecar/migrate.ts";
import { BACKENDS, freshDatabase, type TestDatabase } from "./harness.ts";

describe("migration files", () => {
  it("are numbered from 0001 without gaps, with checksums", ({ expect }) => {
    const migrations = readMigrations();
    expect(migrations.map((m) => m.id)).toEqual(migrations.map((_, i) => i + 1));
    expect(migrations[0]?.name).toBe("accounts");
    for (const m of migrations) expect(m.checksum).toMatch(/^[0-9a-f]{64}$/);
  });

  it.for([
    [["0001_a.sql", "0003_c.sql"], /without gaps/],
    [["0001_a.sql", "2_b.sql"], /must be named NNNN_name\.sql/],
    [["0001_Bad-Name.sql"], /must be named NNNN_name\.sql/],
  ] as const)("refuses %j", ([files, message], { expect }) => {
    const dir = mkdtempSync(join(tmpdir(), "armor-migrations-"));
    for (const f of files) writeFileSync(join(dir, f), "SELECT 1;");
    expect(() => readMigrations(dir)).toThrow(message);
  });
});

describe.for(BACKENDS)("migrations on %s", (backend) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await freshDatabase(backend);
  });
  afterAll(() => database.close());

  it("apply once, are recorded with their checksum, and are a no-op after", async ({ expect }) => {
    const files = readMigrations();
    // Two starts at once: the advisory lock lets one apply and the other find it done.
    const runs = await Promise.all([migrate(database.db), migrate(database.db)]);
    expect(runs.flat().sort()).toEqual(files.map((m) => m.id));
    expect(await migrate(database.db)).toEqual([]);
    const recorded = await database.db.query<{ id: number; name: string; checksum: string }>(
      "SELECT id, name, checksum FROM schema_migrations ORDER BY id",
    );
    expect(recorded).toEqual(files.map((m) => ({ id: m.id, name: m.name, checksum: m.checksum })));
    const tables = await database.db.query<{ table_name: string }>(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name",
    );
    expect(tables.map((t) => t.table_name)).toEqual([
      "accounts",
      "api_tokens",
      "audit_log",
      "grants",
      "repositories",
      "schema_migrations",
    ]);
  });

  it("refuse to start when an applied migration was edited", async ({ expect }) => {
    await migrate(database.db);
    const edited = readMigrations().map((m) => (m.id === 1 ? { ...m, checksum: "0".repeat(64) } : m));
    await expect(migrate(database.db, edited)).rejects.toThrow(/changed after it was applied/);
  });

  it("refuse to start on a database migrated by newer code", async ({ expect }) => {
    await migrate(database.db);
    await expect(migrate(database.db, [])).rejects.toThrow(/newer sidecar/);
  });

  it("roll back entirely when one fails, recording nothing", async ({ expect }) => {
    await migrate(database.db);
    const broken = [
      ...readMigrations(),
      { id: 900, name: "good", sql: "CREATE TABLE half_done (x int);", checksum: "a".repeat(64) },
      { id: 901, name: "bad", sql: "CREATE TABLE nope (x no_such_type);", checksum: "b".repeat(64) },
    ];
    await expect(migrate(database.db, broken)).rejects.toThrow(/migration 0901_bad failed/);
    const leftovers = await database.db.query("SELECT 1 FROM information_schema.tables WHERE table_name = 'half_done'");
    expect(leftovers).toEqual([]);
    expect(await database.db.query("SELECT id FROM schema_migrations WHERE id >= 900")).toEqual([]);
  });

  it("make the audit log append-only: UPDATE, DELETE and TRUNCATE fail", async ({ expect }) => {
    await migrate(database.db);
    await database.db.query(
      "INSERT INTO audit_log (actor, action, subject, details) VALUES ('t', 'account.create', 'x', '{}'::jsonb)",
    );
    await expect(database.db.query("UPDATE audit_log SET actor = 'forged'")).rejects.toThrow(/append-only/);
    await expect(database.db.query("DELETE FROM audit_log")).rejects.toThrow(/append-only/);
    await expect(database.db.query("TRUNCATE audit_log")).rejects.toThrow(/append-only/);
    const rows = await database.db.query<{ actor: string }>("SELECT actor FROM audit_log");
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.map((r) => r.actor)).not.toContain("forged");
  });
});
