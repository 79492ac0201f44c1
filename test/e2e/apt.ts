/**
 * The real Debian `apt-get` and `apt-cache`, run as the current user with an isolated configuration:
 * every directory apt reads or writes lives in a temporary root, so neither the machine's sources,
 * trusted keys, lists and package cache nor its dpkg database take part, and nothing of the
 * machine's apt state changes.
 *
 * The options are those of apt.conf(5) (`Dir::*`, `Debug::NoLocking`, `APT::Sandbox::User`),
 * sources.list(5) in its deb822 form (`Signed-By:`) and apt_auth.conf(5) (`Dir::Etc::netrcparts`).
 *
 * With `chroot`, the same isolated configuration is used by another Debian release's apt: the
 * machine's apt is bookworm's 2.6, and apt 3 (trixie) runs from a root built by test/e2e/trixie.ts.
 */

import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { isAbsolute, join, relative } from "node:path";
import { finished } from "../helpers/processes.ts";

/** Commands the end-to-end tests drive, and the Debian package that provides each. */
const TOOLS: Record<string, string> = {
  "apt-get": "apt",
  "apt-cache": "apt",
  // apt 2.6 verifies InRelease through apt-key, which runs gpgv.
  "apt-key": "apt",
  gpgv: "gpgv",
  gpg: "gnupg",
  dpkg: "dpkg",
};

/**
 * Throw, naming the packages to install, when a tool is missing: CI must fail here, never pass by
 * skipping the tests that prove apt works.
 */
export function requireAptTools(): void {
  const missing = Object.keys(TOOLS).filter((tool) => spawnSync("sh", ["-c", `command -v ${tool}`]).status !== 0);
  if (missing.length === 0) return;
  const packages = [...new Set(missing.map((tool) => TOOLS[tool]))].join(" ");
  throw new Error(
    `the end-to-end tests need ${missing.join(", ")}: run \`apt-get install -y ${packages}\` (or \`bash .ci/run\`, which installs them)`,
  );
}

export interface AptRun {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout then stderr, for assertions that do not care which stream apt chose. */
  output: string;
}

export interface Source {
  uris: string[];
  suites: string[];
  components?: string[];
  /** The keyring file apt must verify this source's InRelease with, and nothing else. */
  signedBy: string;
  /** sources.list(5) `Snapshot:` (apt 2.7+): `enable`, `disable` or a snapshot ID to pin. */
  snapshot?: string;
}

export interface AptRoot {
  /** The temporary root; everything apt touches is below it. */
  dir: string;
  /** `Dir::Cache::archives`, where `apt-get install --download-only` leaves packages. */
  archives: string;
  /** Write `etc/sources.list.d/{name}.sources` (deb822). */
  addSource(name: string, source: Source): void;
  /** Write `etc/auth.conf.d/{name}.conf` (mode 0600, as apt_auth.conf(5) asks). */
  addAuth(name: string, text: string): void;
  /** `apt-get ...args`; `options` become `-o NAME=VALUE`. */
  get(args: string[], run?: AptRunOptions): Promise<AptRun>;
  /** `apt ...args` (apt(8), the interactive front end), as `get`. */
  apt(args: string[], run?: AptRunOptions): Promise<AptRun>;
  /** `apt-cache policy NAME`, parsed; with `snapshot`, as `apt-cache --snapshot ID policy NAME`. */
  policy(name: string, view?: { snapshot?: string }): Promise<Policy>;
  cleanup(): void;
}

export interface AptRunOptions {
  cwd?: string;
  options?: Record<string, string>;
}

export interface AptRootOptions {
  /**
   * Per-host HTTP proxies (`Acquire::http::Proxy::{host}`): how apt reaches a repository hostname
   * through the local Worker, which routes by the Host apt sends. Every other host is DIRECT.
   */
  proxies?: Record<string, string>;
  /** Where to make the root (default: the system's temp dir). */
  parent?: string;
  /**
   * Run apt inside this Debian root with chroot(8) (as root): its apt, methods and gpgv or sqv, not
   * the machine's. `parent` must then lie inside it; the configuration, the sources' `Signed-By`
   * and the working directory name paths as seen from inside.
   */
  chroot?: string;
}

/** A fresh, empty apt configuration and state. */
export function aptRoot(options: AptRootOptions = {}): AptRoot {
  const dir = mkdtempSync(join(options.parent ?? tmpdir(), "armor-apt-"));
  const inside = (path: string) => (options.chroot === undefined ? path : pathInside(options.chroot, path));
  const etc = join(dir, "etc");
  const archives = join(dir, "cache", "archives");
  for (const d of [
    "etc/sources.list.d",
    "etc/apt.conf.d",
    "etc/preferences.d",
    "etc/trusted.gpg.d",
    "etc/auth.conf.d",
    "state/lists/partial",
    "cache/archives/partial",
    "log",
  ]) {
    mkdirSync(join(dir, d), { recursive: true });
  }
  const status = join(dir, "dpkg-status");
  writeFileSync(status, "");
  const proxies = Object.entries(options.proxies ?? {}).map(
    ([host, url]) => `Acquire::http::Proxy::${host} ${quote(url)};`,
  );
  // Relative Dir::Etc::* names resolve below Dir::Etc, so apt reads only our (mostly empty)
  // apt.conf.d, trusted.gpg.d and auth.conf.d and never /etc/apt.
  const conf = [
    `Dir::Etc ${quote(`${inside(etc)}/`)};`,
    `Dir::Etc::main "apt.conf";`,
    `Dir::Etc::parts "apt.conf.d";`,
    `Dir::Etc::sourcelist "sources.list";`,
    `Dir::Etc::sourceparts "sources.list.d";`,
    `Dir::Etc::preferences "preferences";`,
    `Dir::Etc::preferencesparts "preferences.d";`,
    // Empty: with Signed-By apt should not consult them anyway, and the machine's keys must not count.
    `Dir::Etc::trusted "trusted.gpg";`,
    `Dir::Etc::trustedparts "trusted.gpg.d";`,
    `Dir::Etc::netrc "auth.conf";`,
    `Dir::Etc::netrcparts "auth.conf.d";`,
    `Dir::State ${quote(`${inside(dir)}/state/`)};`,
    `Dir::State::lists "lists/";`,
    // An empty dpkg database: nothing is installed, and the machine's is never read.
    `Dir::State::status ${quote(inside(status))};`,
    `Dir::Cache ${quote(`${inside(dir)}/cache/`)};`,
    `Dir::Cache::archives "archives/";`,
    `Dir::Log ${quote(`${inside(dir)}/log/`)};`,
    // apt takes /var/lib/dpkg/lock and lists/lock only to protect the system's state; ours is private.
    `Debug::NoLocking "true";`,
    // As root apt would drop to _apt for downloads, and _apt cannot enter a 0700 temp dir; as any
    // other user it stays who it is. Naming the current user gives the same behaviour for both.
    `APT::Sandbox::User ${quote(userInfo().username)};`,
    `APT::Architecture "amd64";`,
    `APT::Architectures { "amd64"; };`,
    `Acquire::Languages "none";`,
    `Acquire::Retries "0";`,
    `Acquire::http::Timeout "20";`,
    `Acquire::http::Proxy "DIRECT";`,
    ...proxies,
  ].join("\n");
  const config = join(dir, "apt.conf");
  writeFileSync(config, `${conf}\n`);

  const exec = async (cmd: string, args: string[], cwd = dir): Promise<AptRun> => {
    // A clean environment: no http_proxy from the developer's shell, messages in English.
    const env = { HOME: inside(dir), LC_ALL: "C", APT_CONFIG: inside(config) };
    // chroot(8) starts the command at the new root's /; env(1) of the root's coreutils moves it to cwd.
    const child =
      options.chroot === undefined
        ? spawn(cmd, args, {
            cwd,
            env: { ...env, PATH: process.env.PATH ?? "/usr/bin:/bin" },
            stdio: ["ignore", "pipe", "pipe"],
          })
        : spawn("chroot", [options.chroot, "env", `--chdir=${inside(cwd)}`, cmd, ...args], {
            // Found by chroot(8) here and by env(1) in the root.
            env: { ...env, PATH: "/usr/sbin:/usr/bin:/sbin:/bin" },
            stdio: ["ignore", "pipe", "pipe"],
          });
    const { code, stdout, stderr } = await finished(child);
    return { code, stdout, stderr, output: `${stdout}${stderr}` };
  };

  return {
    dir,
    archives,
    addSource(name, source) {
      const stanza = [
        "Types: deb",
        `URIs: ${source.uris.join(" ")}`,
        `Suites: ${source.suites.join(" ")}`,
        `Components: ${(source.components ?? ["main"]).join(" ")}`,
        `Signed-By: ${inside(source.signedBy)}`,
        ...(source.snapshot === undefined ? [] : [`Snapshot: ${source.snapshot}`]),
      ].join("\n");
      writeFileSync(join(etc, "sources.list.d", `${name}.sources`), `${stanza}\n`);
    },
    addAuth(name, text) {
      const path = join(etc, "auth.conf.d", `${name}.conf`);
      writeFileSync(path, text, { mode: 0o600 });
      chmodSync(path, 0o600);
    },
    get(args, run = {}) {
      return exec("apt-get", [...flags(run), ...args], run.cwd);
    },
    apt(args, run = {}) {
      return exec("apt", [...flags(run), ...args], run.cwd);
    },
    async policy(name, view = {}) {
      const args = [...(view.snapshot === undefined ? [] : ["--snapshot", view.snapshot]), "policy", name];
      const ran = await exec("apt-cache", args);
      if (ran.code !== 0) throw new Error(`apt-cache ${args.join(" ")} failed (${ran.code}):\n${ran.output}`);
      return parsePolicy(ran.stdout);
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Policy {
  candidate: string | null;
  /** The version table, highest first, each with the sources that offer it. */
  versions: { version: string; origins: string[] }[];
}

/**
 * Read `apt-cache policy NAME`:
 *
 *     tool:
 *       Installed: (none)
 *       Candidate: 2.0
 *       Version table:
 *          2.0 500
 *             500 http://127.0.0.1:PORT/acme/tools testing/main amd64 Packages
 *
 * An unknown package prints nothing on stdout: no candidate, no versions.
 */
export function parsePolicy(text: string): Policy {
  const candidate = /^ {2}Candidate: (.+)$/m.exec(text)?.[1] ?? null;
  const versions: Policy["versions"] = [];
  for (const line of text.split("\n")) {
    const version = /^ (?:\*\*\*| {3}) (\S+) -?\d+$/.exec(line);
    if (version?.[1]) {
      versions.push({ version: version[1], origins: [] });
      continue;
    }
    const origin = /^ {8}-?\d+ (.+)$/.exec(line);
    if (origin?.[1]) versions.at(-1)?.origins.push(origin[1]);
  }
  return { candidate: candidate === "(none)" ? null : candidate, versions };
}

/** The lines apt marks as warnings or errors (`W:`, `E:`). */
export function problems(run: AptRun): string[] {
  return run.output.split("\n").filter((l) => /^[WE]: /.test(l));
}

export function sha256File(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

function flags(run: AptRunOptions): string[] {
  return Object.entries(run.options ?? {}).flatMap(([k, v]) => ["-o", `${k}=${v}`]);
}

/** `path` (below `root`) as a process chrooted into `root` names it. */
function pathInside(root: string, path: string): string {
  const rel = relative(root, path);
  if (rel === "") return "/";
  if (rel === ".." || rel.startsWith("../") || isAbsolute(rel))
    throw new Error(`${path} is not inside the chroot ${root}`);
  return `/${rel}`;
}

function quote(value: string): string {
  if (/["\n]/.test(value)) throw new Error(`cannot quote ${JSON.stringify(value)} for apt.conf`);
  return `"${value}"`;
}
