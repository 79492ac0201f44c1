/**
 * Where the CLI's settings come from, strongest first: flags, then the environment (`ARMOR_ENDPOINT`,
 * `ARMOR_TOKEN`, `ARMOR_REPOSITORY`), then the config file (`$XDG_CONFIG_HOME/armor/config.toml`,
 * by default `~/.config/armor/config.toml`, or `--config`). The file is validated with zod, and
 * its errors name the line to fix.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { parse, stringify } from "smol-toml";
import { z } from "zod";
import { RepositoryRefSchema } from "../schema/index-document.ts";
import { UserError } from "./errors.ts";

export const ConfigFileSchema = z
  .object({
    endpoint: z.url({ message: "must be a URL such as https://armor.example.com" }).optional(),
    token: z.string().min(1).optional(),
    /** `owner/name`, or a hostname the repository is served at. */
    repository: RepositoryRefSchema.optional(),
    /** Directory of armored secret keys `armor index sign` may use. */
    keyring_dir: z.string().min(1).optional(),
  })
  .strict();
export type ConfigFile = z.infer<typeof ConfigFileSchema>;

export interface Settings {
  endpoint: string | undefined;
  token: string | undefined;
  repository: string | undefined;
  keyringDir: string;
  configPath: string;
}

export function defaultConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME || join(homedir(), ".config");
  return join(base, "armor", "config.toml");
}

/** Read and validate the config file; a missing file is an empty config. */
export function readConfigFile(path: string): ConfigFile {
  if (!existsSync(path)) return {};
  const text = readFileSync(path, "utf8");
  let data: unknown;
  try {
    data = parse(text);
  } catch (cause) {
    const line = cause instanceof Error && "line" in cause ? ` line ${String(cause.line)}` : "";
    const detail = cause instanceof Error ? (cause.message.split("\n")[0] ?? "") : "";
    throw new UserError(`${path}${line}: not valid TOML (${detail})`, {
      hint: "fix the file or remove it and run `armor login`",
    });
  }
  const parsed = ConfigFileSchema.safeParse(data);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const key = issue?.path[0] === undefined ? undefined : String(issue.path[0]);
  const keys = issue?.code === "unrecognized_keys" ? issue.keys : key === undefined ? [] : [key];
  const line = lineOf(text, keys[0]);
  const where = line === undefined ? path : `${path} line ${line}`;
  const message =
    issue?.code === "unrecognized_keys"
      ? `unknown setting "${keys.join('", "')}" (known: endpoint, token, repository, keyring_dir)`
      : `${key ?? "config"} ${issue?.message ?? "is invalid"}`;
  throw new UserError(`${where}: ${message}`, { hint: "fix the file or remove it and run `armor login`" });
}

function lineOf(text: string, key: string | undefined): number | undefined {
  if (key === undefined) return undefined;
  const at = text
    .split("\n")
    .findIndex((l) => new RegExp(`^\\s*"?${key.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}"?\\s*=`).test(l));
  return at < 0 ? undefined : at + 1;
}

/** Merge flags, environment and file. */
export function resolveSettings(
  flags: { endpoint?: string; token?: string; repository?: string; config?: string },
  env: NodeJS.ProcessEnv = process.env,
): Settings {
  const configPath = flags.config ?? env.ARMOR_CONFIG ?? defaultConfigPath(env);
  const file = readConfigFile(configPath);
  return {
    endpoint: (flags.endpoint ?? env.ARMOR_ENDPOINT ?? file.endpoint)?.replace(/\/+$/, ""),
    token: flags.token ?? env.ARMOR_TOKEN ?? file.token,
    repository: flags.repository ?? env.ARMOR_REPOSITORY ?? file.repository,
    keyringDir: file.keyring_dir ?? join(dirname(configPath), "keys"),
    configPath,
  };
}

/** Write the config file (token included), readable by its owner only. */
export function writeConfigFile(path: string, config: ConfigFile): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileSync(path, `# written by armor login\n${stringify(config)}\n`, { mode: 0o600 });
  chmodSync(path, 0o600);
}
