/**
 * The sidecar's one view of its database: a real PostgreSQL server through a `pg` pool when
 * `DATABASE_URL` is set, an embedded PGlite (PostgreSQL compiled to WebAssembly) in a data
 * directory otherwise. Every query runs unchanged on both, so both are tested with the same suite.
 *
 * What differs between the two, and how the SQL copes:
 * - `bigint`/`bigserial` columns come back as strings from `pg` and as numbers from PGlite: cast
 *   them (`id::text`) in the query.
 * - Parameters are sent as text: pass JSON as `JSON.stringify(…)` with a `$n::jsonb` cast, never
 *   an object (`pg` turns JS arrays into PostgreSQL arrays).
 * - PGlite is one connection: a query on the outer `Db` inside `transaction` would wait for the
 *   transaction forever. Inside a transaction, use only the `tx` it hands you.
 */
import { mkdirSync } from "node:fs";
import { PGlite } from "@electric-sql/pglite";
import pg from "pg";

export interface Db {
  /** One statement with bound parameters (`$1`, `$2`, …); the rows it returns. */
  query<T>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  /** A script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
  /** Run `fn` in a transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T>;
  close(): Promise<void>;
  /** Where the data lives, for the start-up log line (never a password). */
  readonly description: string;
}

/** Connect to PostgreSQL at `url` (a pool; connections are made on first use). */
export function postgresDb(url: string): Db {
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  // An idle client losing its connection must not crash the process; the next query reconnects.
  pool.on("error", (err) => console.error("armor sidecar: idle PostgreSQL connection failed", err));
  const db: Db = {
    description: `PostgreSQL at ${redact(url)}`,
    async query<T>(sql: string, params: readonly unknown[] = []) {
      const result = await pool.query(sql, [...params]);
      return result.rows as T[];
    },
    async exec(sql: string) {
      // Without parameters, pg uses the simple query protocol, which runs several statements.
      await pool.query(sql);
    },
    async transaction<T>(fn: (tx: Db) => Promise<T>) {
      const client = await pool.connect();
      try {
        await client.query("BEGIN");
        const tx = clientDb(client, db.description);
        const value = await fn(tx);
        await client.query("COMMIT");
        return value;
      } catch (err) {
        await client.query("ROLLBACK").catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
  return db;
}

/** The connection of an open transaction; nested `transaction` calls join it. */
function clientDb(client: pg.PoolClient, description: string): Db {
  const tx: Db = {
    description,
    async query<T>(sql: string, params: readonly unknown[] = []) {
      const result = await client.query(sql, [...params]);
      return result.rows as T[];
    },
    async exec(sql: string) {
      await client.query(sql);
    },
    transaction: (fn) => fn(tx),
    close: async () => {},
  };
  return tx;
}

/** Open (creating when new) an embedded PGlite database in `dataDir`; `undefined` keeps it in memory. */
export async function pgliteDb(dataDir: string | undefined): Promise<Db> {
  if (dataDir !== undefined) mkdirSync(dataDir, { recursive: true });
  const lite = await PGlite.create(dataDir);
  const description = dataDir === undefined ? "PGlite in memory" : `PGlite in ${dataDir}`;
  return {
    description,
    async query<T>(sql: string, params: readonly unknown[] = []) {
      return (await lite.query<T>(sql, [...params])).rows;
    },
    async exec(sql: string) {
      await lite.exec(sql);
    },
    transaction<T>(fn: (tx: Db) => Promise<T>) {
      return lite.transaction(async (inner) => {
        const tx: Db = {
          description,
          async query<R>(sql: string, params: readonly unknown[] = []) {
            return (await inner.query<R>(sql, [...params])).rows;
          },
          async exec(sql: string) {
            await inner.exec(sql);
          },
          transaction: (nested) => nested(tx),
          close: async () => {},
        };
        return fn(tx);
      });
    },
    close: () => lite.close(),
  };
}

/** The database the environment asks for: PostgreSQL at `databaseUrl` if given, else PGlite in `dataDir`. */
export function openDb(options: { databaseUrl: string | undefined; dataDir: string }): Promise<Db> {
  if (options.databaseUrl !== undefined) return Promise.resolve(postgresDb(options.databaseUrl));
  return pgliteDb(options.dataDir);
}

function redact(url: string): string {
  try {
    const u = new URL(url);
    u.password = "";
    return u.toString();
  } catch {
    return "(an unparsable DATABASE_URL)";
  }
}

/** A `timestamptz` as both drivers return it (a Date), on the wire as ISO 8601 UTC. */
export function isoTime(value: Date): string;
export function isoTime(value: Date | null): string | null;
export function isoTime(value: Date | null): string | null {
  return value === null ? null : value.toISOString();
}
