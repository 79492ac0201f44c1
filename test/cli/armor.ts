/**
 * Run the real `armor` command as a separate process, as CI would, against the local stack.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";
import { buildDeb } from "../../deb/deb-writer.ts";
import { finished } from "../helpers/processes.ts";

const MAIN = new URL("../../cli/main.ts", import.meta.url).pathname;

let scratch: string | undefined;
// Registered while the importing test file is collected, so it runs after that file's tests.
afterAll(() => {
  if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
  scratch = undefined;
});
/** A fresh directory below one per test process, removed when the process exits. */
function scratchDir(prefix: string): string {
  if (scratch === undefined) {
    scratch = mkdtempSync(join(tmpdir(), "armor-cli-runs-"));
  }
  return mkdtempSync(join(scratch, prefix));
}

export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** `armor ...args` with a clean environment plus `env`; never inherits the developer's config. */
export async function armor(args: string[], env: Record<string, string> = {}, input?: string): Promise<Ran> {
  const child = spawn(process.execPath, [MAIN, ...args], {
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: env.HOME ?? tmpdir(),
      XDG_CONFIG_HOME: env.XDG_CONFIG_HOME ?? scratchDir("config-"),
      CI: "true",
      ...env,
    },
    stdio: ["pipe", "pipe", "pipe"],
  });
  child.stdin.end(input ?? "");
  return finished(child);
}

/** Write a small valid package into `dir` and return its path. */
export function writeDeb(
  dir: string,
  name: string,
  version: string,
  architecture = "amd64",
  /** Extra lines of long description, to make big indexes of few packages. */
  descriptionLines = 0,
): string {
  const more = Array.from({ length: descriptionLines }, (_, i) => `\n line ${i} of a long description`).join("");
  const bytes = buildDeb({
    fields: [
      { name: "Package", value: name },
      { name: "Version", value: version },
      { name: "Architecture", value: architecture },
      { name: "Maintainer", value: "Armor Tests <tests@armor.invalid>" },
      { name: "Description", value: `test package ${name}\n Built by Armor's CLI tests.${more}` },
    ],
    files: [{ path: `/usr/share/doc/${name}/README`, data: `${name} ${version}\n` }],
    mtime: 1_700_000_000,
  });
  const path = join(dir, `${name}_${version}_${architecture}.deb`);
  writeFileSync(path, bytes);
  return path;
}
