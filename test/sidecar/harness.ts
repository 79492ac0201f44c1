/**
 * The sidecar under test, on a real database: PGlite in a temporary directory always, and the
 * machine's PostgreSQL when DATABASE_URL is set (CI sets it). Each test file gets its own fresh
 * database (a new PGlite directory, or `CREATE DATABASE armor_test_<random>` dropped afterwards), so
 * files never collide; tests within a file use their own account and repository names.
 */
import { randomBytes } from "node:crypto";
import { cpSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { SIGNATURE_HEADER, TIMESTAMP_HEADER } from "../../schema/sidecar.ts";
import { createApp } from "../../sidecar/app.ts";
import { bootstrap } from "../../sidecar/bootstrap.ts";
import { type Db, pgliteDb, postgresDb } from "../../sidecar/db.ts";
import { sign } from "../../sidecar/middleware/signature.ts";
import { migrate } from "../../sidecar/migrate.ts";

const PGLITE_VERSION: string = JSON.parse(
  readFileSync(new URL("../../node_modules/@electric-sql/pglite/package.json", import.meta.url), "utf8"),
).version;

export type BackendName = "pglite" | "postgres";

/** The databases this run covers: PGlite always, PostgreSQL when DATABASE_URL is set. */
export const BACKENDS: readonly BackendName[] = process.env.DATABASE_URL ? ["pglite", "postgres"] : ["pglite"];

/** A test-only secret shared by the harness's "Worker" and the sidecar. */
export const TEST_SECRET = "test-only-sidecar-secret-0123456789abcdef";

export interface TestDatabase {
  db: Db;
  /** The environment that points a sidecar process at this same database. */
  env: Record<string, string>;
  close(): Promise<void>;
}

/** A fresh, empty database (no migrations applied). */
export async function freshDatabase(backend: BackendName): Promise<TestDatabase> {
  if (backend === "pglite") {
    const dir = mkdtempSync(join(tmpdir(), "armor-sidecar-pglite-"));
    cpSync(await pgliteTemplate(), dir, { recursive: true });
    const db = closeOnce(await pgliteDb(dir));
    return {
      db,
      env: { ARMOR_DATA_DIR: dir },
      async close() {
        await db.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const serverUrl = process.env.DATABASE_URL;
  if (serverUrl === undefined) throw new Error("the postgres backend needs DATABASE_URL");
  const name = `armor_test_${randomBytes(6).toString("hex")}`;
  await withServer(serverUrl, (client) => client.query(`CREATE DATABASE ${name}`));
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const db = closeOnce(postgresDb(url.toString()));
  return {
    db,
    env: { DATABASE_URL: url.toString() },
    async close() {
      await db.close();
      await withServer(serverUrl, (client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}

/**
 * An empty PGlite data directory, made once per machine and PGlite version and copied for each
 * fresh database: PGlite's initdb takes seconds, a copy of its result a fraction of one.
 */
async function pgliteTemplate(): Promise<string> {
  const template = join(tmpdir(), `armor-sidecar-pglite-template-${PGLITE_VERSION}`);
  if (existsSync(join(template, "PG_VERSION"))) return template;
  const building = mkdtempSync(join(tmpdir(), "armor-sidecar-pglite-building-"));
  const db = await pgliteDb(building);
  await db.close();
  try {
    renameSync(building, template);
  } catch {
    // Another test file built it first; theirs is as good.
    rmSync(building, { recursive: true, force: true });
  }
  return template;
}

/** A Db whose close may be called again (tests close it early to hand the database to a process). */
function closeOnce(db: Db): Db {
  let closing: Promise<void> | null = null;
  return {
    ...db,
    close() {
      closing ??= db.close();
      return closing;
    },
  };
}

async function withServer<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export interface Reply {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: test code reads arbitrary JSON answers; the assertions check their shape.
  body: any;
}

export interface CallOptions {
  body?: unknown;
  /** Send (and sign) this text as the body instead of `body` as JSON. */
  rawBody?: string;
  /** The caller's own token (Authorization: Bearer). */
  token?: string;
  /** Sign with this timestamp (unix seconds) instead of now. */
  timestamp?: number;
  /** Replace the computed signature; null sends none. */
  signature?: string | null;
  /** Sign this body but send `body` (a tampered request). */
  signedBody?: string;
  /** Sign this path but send the request to `path` (a tampered request). */
  signedPath?: string;
  /** Sign this method but send `method`. */
  signedMethod?: string;
  headers?: Record<string, string>;
}

export interface Sidecar {
  db: Db;
  /** The bootstrap admin's token. */
  adminToken: string;
  /** A request as the Worker sends it: signed with TEST_SECRET. */
  call(method: string, path: string, options?: CallOptions): Promise<Reply>;
  close(): Promise<void>;
}

/** A migrated, bootstrapped sidecar app on a fresh database of `backend`. */
export async function startSidecar(backend: BackendName): Promise<Sidecar> {
  const database = await freshDatabase(backend);
  await migrate(database.db);
  const adminToken = await bootstrap(database.db);
  if (adminToken === null) throw new Error("a fresh database did not bootstrap");
  const app = createApp({ db: database.db, secret: TEST_SECRET });
  return {
    db: database.db,
    adminToken,
    async call(method, path, options = {}) {
      const body = options.rawBody ?? (options.body === undefined ? "" : JSON.stringify(options.body));
      const timestamp = String(options.timestamp ?? Math.floor(Date.now() / 1000));
      const url = new URL(path, "http://localhost");
      const signature =
        options.signature === undefined
          ? sign(
              TEST_SECRET,
              timestamp,
              options.signedMethod ?? method,
              options.signedPath ?? url.pathname + url.search,
              options.signedBody ?? body,
            )
          : options.signature;
      const headers: Record<string, string> = { [TIMESTAMP_HEADER]: timestamp, ...options.headers };
      if (signature !== null) headers[SIGNATURE_HEADER] = signature;
      if (body !== "") headers["content-type"] = "application/json";
      if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
      const res = await app.request(path, { method, headers, ...(body === "" ? {} : { body }) });
      const text = await res.text();
      return { status: res.status, body: text === "" ? null : JSON.parse(text) };
    },
    close: () => database.close(),
  };
}

/** A name no other test in the file uses. */
export function unique(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString("hex")}`;
}

/** Create an account (as the bootstrap admin) and a token for it; returns the account name and token. */
export async function accountWithToken(
  sidecar: Sidecar,
  options: { platformAdmin?: boolean; name?: string } = {},
): Promise<{ account: string; token: string; tokenId: string }> {
  const account = options.name ?? unique("acct");
  const created = await sidecar.call("POST", "/v1/accounts", {
    token: sidecar.adminToken,
    body: { name: account, platform_admin: options.platformAdmin ?? false },
  });
  if (created.status !== 201) throw new Error(`creating account ${account}: ${JSON.stringify(created.body)}`);
  const token = await sidecar.call("POST", "/v1/tokens", {
    token: sidecar.adminToken,
    body: { name: "test", account },
  });
  if (token.status !== 201) throw new Error(`creating a token for ${account}: ${JSON.stringify(token.body)}`);
  return { account, token: token.body.token, tokenId: token.body.id };
}

/** Register a repository (as the bootstrap admin). */
export async function repository(sidecar: Sidecar, id = `${unique("owner")}/repo`): Promise<string> {
  const res = await sidecar.call("POST", "/v1/repositories", { token: sidecar.adminToken, body: { id } });
  if (res.status !== 201) throw new Error(`registering ${id}: ${JSON.stringify(res.body)}`);
  return id;
}

/** Grant a role (as the bootstrap admin). */
export async function grant(
  sidecar: Sidecar,
  body: { repository: string; account?: string; token_id?: string; role: string },
): Promise<void> {
  const res = await sidecar.call("POST", "/v1/grants", { token: sidecar.adminToken, body });
  if (res.status !== 201) throw new Error(`granting ${JSON.stringify(body)}: ${JSON.stringify(res.body)}`);
}
