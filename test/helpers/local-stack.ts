/**
 * The real local stack for Node tests (CLI, sidecar, end to end): the Worker with local D1, R2 and
 * Durable Objects under wrangler's test harness, listening on a real port so separate processes
 * (the armor CLI, apt) can reach it, and, when asked, the accounts sidecar as a real process.
 * Never a mock of our own API.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestHarness } from "wrangler";
import { startSidecarProcess } from "./sidecar-process.ts";

export interface LocalStack {
  /** http://127.0.0.1:PORT — a platform host. */
  endpoint: string;
  /** The operator token the Worker was started with. */
  token: string;
  /**
   * Run one SQL statement on the Worker's local D1, as an operator could on the real one: how a
   * test makes D1 refuse a write (a trigger) without any switch in the code that ships.
   */
  d1(sql: string): Promise<void>;
  close(): Promise<void>;
}

/** The part of the Worker's D1 binding the tests use, as the harness hands it to Node. */
interface D1Env {
  DB: { prepare(sql: string): { run(): Promise<unknown> } };
}

export interface StackOptions {
  sidecar?: { url: string; secret: string };
  authCacheSeconds?: number;
}

export async function startLocalStack(options: StackOptions = {}): Promise<LocalStack> {
  const token = `test-${randomBytes(16).toString("hex")}`;
  const server = createTestHarness({
    workers: [
      {
        configPath: new URL("../../wrangler.toml", import.meta.url),
        vars: {
          SIDECAR_URL: options.sidecar?.url ?? "",
          AUTH_CACHE_SECONDS: String(options.authCacheSeconds ?? 30),
        },
        secrets: { ARMOR_ADMIN_TOKEN: token, SIDECAR_SECRET: options.sidecar?.secret ?? "" },
      },
    ],
  });
  const { url } = await server.listen();
  await server.getWorker().applyD1Migrations("DB");
  const endpoint = `http://127.0.0.1:${url.port}`;
  const d1 = async (sql: string) => {
    const env = await server.getWorker<D1Env>().getEnv();
    await env.DB.prepare(sql).run();
  };
  return { endpoint, token, d1, close: () => server.close() };
}

export interface SidecarProcess {
  url: string;
  secret: string;
  /** The first admin token (ARMOR_BOOTSTRAP_TOKEN). */
  adminToken: string;
  stop(): Promise<void>;
}

/** Start `node sidecar/main.ts` on a free port, on PGlite in a temp dir unless `databaseUrl` is given. */
export async function startSidecar(options: { databaseUrl?: string } = {}): Promise<SidecarProcess> {
  const secret = randomBytes(32).toString("hex");
  const adminToken = `armor_testboot_${randomBytes(32).toString("base64url")}`;
  const dataDir = mkdtempSync(join(tmpdir(), "armor-sidecar-"));
  const child = await startSidecarProcess({
    ARMOR_DATA_DIR: dataDir,
    ARMOR_SIDECAR_SECRET: secret,
    ARMOR_BOOTSTRAP_TOKEN: adminToken,
    ...(options.databaseUrl ? { DATABASE_URL: options.databaseUrl } : {}),
  });
  return {
    url: child.url,
    secret,
    adminToken,
    stop: async () => {
      await child.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
