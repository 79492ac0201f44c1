/**
 * The real local stack for Node tests (CLI, sidecar, end to end): the Worker with local D1, R2 and
 * Durable Objects under wrangler's test harness, listening on a real port so separate processes
 * (the armor CLI, apt) can reach it. Never a mock of our own API.
 */
import { randomBytes } from "node:crypto";
import { createTestHarness } from "wrangler";

export interface LocalStack {
  /** http://127.0.0.1:PORT — a platform host. */
  endpoint: string;
  /** The operator token the Worker was started with. */
  token: string;
  close(): Promise<void>;
}

export async function startLocalStack(): Promise<LocalStack> {
  const token = `test-${randomBytes(16).toString("hex")}`;
  const server = createTestHarness({
    workers: [{ configPath: new URL("../../wrangler.toml", import.meta.url), secrets: { ARMOR_ADMIN_TOKEN: token } }],
  });
  const { url } = await server.listen();
  await server.getWorker().applyD1Migrations("DB");
  const endpoint = `http://127.0.0.1:${url.port}`;
  return { endpoint, token, close: () => server.close() };
}
