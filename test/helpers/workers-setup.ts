/** Setup for the `workers` project: the D1 schema the Worker reads, applied to each test file's isolated storage. */
import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";

await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
