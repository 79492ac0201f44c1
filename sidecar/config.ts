/** The sidecar's settings, from the environment; a bad setting stops the start with a message. */
import { resolve } from "node:path";
import { ok, type Result } from "../schema/result.ts";
import { tokenFrom } from "./tokens.ts";

export interface SidecarConfig {
  port: number;
  host: string;
  /** PostgreSQL to use; when unset, PGlite in `dataDir`. */
  databaseUrl: string | undefined;
  dataDir: string;
  secret: string;
  /** The first admin token on an empty database, instead of a random one (ARMOR_BOOTSTRAP_TOKEN). */
  bootstrapToken: string | undefined;
}

export const MIN_SECRET_LENGTH = 32;

/** The settings from `env` (PORT, HOST, DATABASE_URL, ARMOR_DATA_DIR, ARMOR_SIDECAR_SECRET, ARMOR_BOOTSTRAP_TOKEN), or why they are unusable. */
export function loadConfig(env: NodeJS.ProcessEnv, cwd: string = process.cwd()): Result<SidecarConfig, string> {
  const secret = env.ARMOR_SIDECAR_SECRET ?? "";
  if (secret.length < MIN_SECRET_LENGTH) {
    return {
      ok: false,
      error:
        `ARMOR_SIDECAR_SECRET must be set to the secret shared with the Worker (its SIDECAR_SECRET), at least ${MIN_SECRET_LENGTH} characters; ` +
        "generate one with: openssl rand -hex 32",
    };
  }
  const portText = env.PORT ?? "8788";
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535) {
    return { ok: false, error: `PORT must be a port number (0 picks a free one), not ${JSON.stringify(portText)}` };
  }
  const bootstrapToken = nonEmpty(env.ARMOR_BOOTSTRAP_TOKEN);
  if (bootstrapToken !== undefined && tokenFrom(bootstrapToken) === null) {
    return {
      ok: false,
      error: "ARMOR_BOOTSTRAP_TOKEN must look like armor_<8 of a-z2-7>_<at least 43 of A-Za-z0-9_->, as tokens do",
    };
  }
  return ok({
    port,
    host: nonEmpty(env.HOST) ?? "127.0.0.1",
    databaseUrl: nonEmpty(env.DATABASE_URL),
    dataDir: resolve(cwd, nonEmpty(env.ARMOR_DATA_DIR) ?? ".armor/sidecar"),
    secret,
    bootstrapToken,
  });
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}
