/**
 * The machine's own Debian Packages index (bookworm main under /var/lib/apt/lists, about 63,000
 * stanzas, lz4-compressed): real control data for tests and benchmarks. Node only.
 */
import { execFileSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";

const LISTS = "/var/lib/apt/lists";

/** The text of the main archive's Packages index (not -security or -updates). */
export function readPackagesIndex(): string {
  const file = readdirSync(LISTS).find((f) => /_dists_[a-z]+_main_binary-[a-z0-9]+_Packages(\.lz4)?$/.test(f));
  if (file === undefined) throw new Error(`no Debian Packages index under ${LISTS}: run \`apt-get update\``);
  const path = join(LISTS, file);
  const [cmd, args] = file.endsWith(".lz4") ? ["lz4", ["-dc", path]] : ["cat", [path]];
  return execFileSync(cmd, args as string[], { maxBuffer: 1 << 30, encoding: "utf8" });
}
