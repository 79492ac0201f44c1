/**
 * Numbered, append-only migrations (`schema/postgres/NNNN_name.sql`), applied at start in one
 * transaction and recorded in `schema_migrations` with a checksum of each file.
 *
 * - An advisory lock serializes sidecars starting together against one database.
 * - A recorded migration whose file changed, or one the code does not know (a database migrated
 *   by newer code), stops the start: editing an applied migration never silently diverges.
 */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Db } from "./db.ts";

export interface Migration {
  id: number;
  name: string;
  sql: string;
  checksum: string;
}

/** Where the sidecar's migrations live in this repository. */
export const MIGRATIONS_DIR = new URL("../schema/postgres/", import.meta.url);

/** Any constant shared by every sidecar: the key of the advisory lock that serializes migrations. */
const MIGRATION_LOCK = 7_264_231_001;

const FILE_NAME = /^(\d{4})_([a-z0-9_]+)\.sql$/;

/** Read and check the migration files: every `.sql` file is `NNNN_name.sql`, numbered 1, 2, 3, … */
export function readMigrations(dir: URL | string = MIGRATIONS_DIR): Migration[] {
  const path = dir instanceof URL ? fileURLToPath(dir) : dir;
  const migrations: Migration[] = [];
  for (const file of readdirSync(path).filter((f) => f.endsWith(".sql"))) {
    const match = FILE_NAME.exec(file);
    if (match === null) throw new Error(`migration ${file} must be named NNNN_name.sql (lowercase, digits, _)`);
    // Checksums ignore line endings, so a checkout with CRLF does not look like an edit.
    const sql = readFileSync(join(path, file), "utf8").replace(/\r\n/g, "\n");
    migrations.push({
      id: Number(match[1]),
      name: match[2] ?? "",
      sql,
      checksum: createHash("sha256").update(sql).digest("hex"),
    });
  }
  migrations.sort((a, b) => a.id - b.id);
  migrations.forEach((m, i) => {
    if (m.id !== i + 1) throw new Error(`migrations must be numbered 0001, 0002, … without gaps; found ${label(m)}`);
  });
  return migrations;
}

/** Apply every migration not yet recorded; returns the ids applied now (empty when up to date). */
export async function migrate(db: Db, migrations: readonly Migration[] = readMigrations()): Promise<number[]> {
  return db.transaction(async (tx) => {
    await tx.query(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`);
    await tx.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      id integer PRIMARY KEY,
      name text NOT NULL,
      checksum text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    const applied = await tx.query<{ id: number; name: string; checksum: string }>(
      "SELECT id, name, checksum FROM schema_migrations ORDER BY id",
    );
    const known = new Map(migrations.map((m) => [m.id, m]));
    for (const row of applied) {
      const migration = known.get(row.id);
      if (migration === undefined) {
        throw new Error(
          `the database has migration ${label(row)}, which this code does not know: it was migrated by a newer sidecar`,
        );
      }
      if (migration.checksum !== row.checksum) {
        throw new Error(
          `migration ${label(migration)} changed after it was applied; migrations are append-only: restore the file and add a new one`,
        );
      }
    }
    const done = new Set(applied.map((row) => row.id));
    const now: number[] = [];
    for (const migration of migrations) {
      if (done.has(migration.id)) continue;
      try {
        await tx.exec(migration.sql);
      } catch (cause) {
        throw new Error(`migration ${label(migration)} failed`, { cause });
      }
      await tx.query("INSERT INTO schema_migrations (id, name, checksum) VALUES ($1, $2, $3)", [
        migration.id,
        migration.name,
        migration.checksum,
      ]);
      now.push(migration.id);
    }
    return now;
  });
}

function label(m: { id: number; name: string }): string {
  return `${String(m.id).padStart(4, "0")}_${m.name}`;
}
