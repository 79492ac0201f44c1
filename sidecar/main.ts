/**
 * The sidecar process: `node sidecar/main.ts`.
 *
 * Reads its settings from the environment (config.ts), opens the database (PostgreSQL at
 * DATABASE_URL, else PGlite in ARMOR_DATA_DIR), applies migrations, creates the first admin on an
 * empty database (printing its token once), then serves, printing
 * `armor sidecar listening on http://HOST:PORT` (tests wait for that line).
 */
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { createApp } from "./app.ts";
import { bootstrap, bootstrapLine } from "./bootstrap.ts";
import { loadConfig } from "./config.ts";
import { openDb } from "./db.ts";
import { migrate } from "./migrate.ts";

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  if (!config.ok) {
    console.error(`armor sidecar: ${config.error}`);
    process.exitCode = 1;
    return;
  }
  const { port, host, secret } = config.value;
  const db = await openDb(config.value);
  console.log(`armor sidecar database: ${db.description}`);
  const applied = await migrate(db);
  if (applied.length > 0) console.log(`armor sidecar applied migrations ${applied.join(", ")}`);
  const token = await bootstrap(db, config.value.bootstrapToken);
  if (token !== null) console.log(bootstrapLine(token));

  const app = createApp({ db, secret });
  const server = serve({ fetch: app.fetch, port, hostname: host }, (info: AddressInfo) => {
    const shown = info.address.includes(":") ? `[${info.address}]` : info.address;
    console.log(`armor sidecar listening on http://${shown}:${info.port}`);
  });

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`armor sidecar stopping (${signal})`);
    // A client holding a connection open must not keep the process alive for ever.
    setTimeout(() => process.exit(1), 10_000).unref();
    // PGlite writes its data directory on close; let it finish before exiting.
    server.close(() => {
      db.close().then(
        () => process.exit(0),
        (err: unknown) => {
          console.error("armor sidecar: closing the database failed", err);
          process.exit(1);
        },
      );
    });
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
}

main().catch((err: unknown) => {
  console.error("armor sidecar failed to start:", err);
  process.exit(1);
});
