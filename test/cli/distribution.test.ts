/**
 * The armor command as a pipeline installs it, without this repository: the npm package
 * (`npm run pack:cli`), the standalone executable (`npm run build:exe`) and its Debian package
 * (`npm run build:deb`). All are built once per run, by the npm scripts themselves, into a
 * temporary directory (one executable build: `build:deb` makes it and packages it), and run as
 * separate processes with environments of their own, the last two with no Node.js on PATH.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, inject, it } from "vitest";
import { type LocalStack, startLocalStack } from "../helpers/local-stack.ts";
import { type Finished, finished } from "../helpers/processes.ts";
import { writeDeb } from "./armor.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const VERSION = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string }).version;
/** The pinned Node 22's directory, for a PATH that has it and nothing of this checkout. */
const NODE_DIR = dirname(process.execPath);

let out: string;
let work: string;
let stack: LocalStack;

function exec(command: string, args: string[], env: NodeJS.ProcessEnv, cwd = work): Promise<Finished> {
  return finished(spawn(command, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] }));
}

/** `npm run <script> -- --out <out>`, as a person would run it, into the temporary directory. */
async function npmRun(script: string): Promise<void> {
  const r = await exec("npm", ["run", "--silent", script, "--", "--out", out], process.env, ROOT);
  if (r.code !== 0) throw new Error(`npm run ${script} failed:\n${r.stdout}${r.stderr}`);
}

beforeAll(async () => {
  out = mkdtempSync(join(tmpdir(), "armor-dist-"));
  work = mkdtempSync(join(tmpdir(), "armor-dist-work-"));
  // The executable is a 120 MB copy of Node: one build for the whole file, about half a minute.
  const [started] = await Promise.all([startLocalStack(), npmRun("pack:cli").then(() => npmRun("build:deb"))]);
  stack = started;
}, 300_000);

afterAll(async () => {
  await stack?.close();
  for (const dir of [out, work]) if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A directory to use as PATH: it holds no node, so nothing can fall back on one. */
function emptyPath(): string {
  return mkdtempSync(join(work, "path-"));
}

describe("the npm package (npm run pack:cli)", () => {
  /** Install the tarball into a fresh prefix, with a registry that does not exist. */
  async function install(): Promise<string> {
    const prefix = mkdtempSync(join(work, "prefix-"));
    const tarball = join(out, `armor-cli-${VERSION}.tgz`);
    const r = await exec("npm", ["install", "--global", "--prefix", prefix, tarball], {
      PATH: `${NODE_DIR}:${process.env.PATH ?? "/usr/bin:/bin"}`,
      HOME: prefix,
      npm_config_cache: join(prefix, ".npm"),
      // Nothing listens on port 9: asking the registry anything would fail the install.
      npm_config_registry: "http://127.0.0.1:9/",
      npm_config_update_notifier: "false",
      npm_config_audit: "false",
      npm_config_fund: "false",
    });
    if (r.code !== 0) throw new Error(`npm install -g failed:\n${r.stdout}${r.stderr}`);
    return prefix;
  }

  it("installs without a registry and runs armor --version, --help and a command", async ({ expect }) => {
    const prefix = await install();
    const installed = join(prefix, "lib", "node_modules", "armor-cli");
    expect(readdirSync(installed).sort()).toEqual(["README.md", "bin", "lib", "package.json"]);
    const manifest = JSON.parse(readFileSync(join(installed, "package.json"), "utf8"));
    expect(manifest).toMatchObject({ name: "armor-cli", version: VERSION, engines: { node: ">=22" } });
    expect(manifest.dependencies).toBeUndefined();

    const env = { PATH: `${NODE_DIR}:/usr/bin:/bin`, HOME: prefix };
    const armor = join(prefix, "bin", "armor");
    expect(await exec(armor, ["--version"], env)).toEqual({ code: 0, stdout: `${VERSION}\n`, stderr: "" });
    const help = await exec(armor, ["--help"], env);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: armor \[options\] \[command\]/);
    expect(help.stdout).toContain("publish");
    const list = await exec(armor, ["repo", "list", "--json"], {
      ...env,
      ARMOR_ENDPOINT: stack.endpoint,
      ARMOR_TOKEN: stack.token,
    });
    expect(list.code, list.stderr).toBe(0);
    expect(JSON.parse(list.stdout)).toHaveProperty("repositories");
  });

  it("says which Node.js it needs when run by an older one", async ({ expect }) => {
    const prefix = await install();
    const armor = join(prefix, "bin", "armor");
    // Node 22 pretending to be 20, so the test does not depend on an old Node being installed.
    const pretend = join(work, "pretend-node-20.cjs");
    writeFileSync(pretend, 'Object.defineProperty(process.versions, "node", { value: "20.11.1" });\n');
    const r = await exec(process.execPath, ["--require", pretend, armor, "--version"], { PATH: "/usr/bin:/bin" });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(
      `error: armor needs Node.js 22 or newer; this is Node.js 20.11.1 (${process.execPath})\n` +
        "hint: put Node.js 22 or newer first on PATH, or install the standalone armor (armor-cli .deb, npm run build:deb), which needs no Node.js\n",
    );
  });
});

describe("the standalone executable (npm run build:exe)", () => {
  it("runs with no Node.js on PATH and publishes, signing with the openpgp.js built into it", async ({ expect }) => {
    const exe = join(out, "armor");
    const env = { PATH: emptyPath(), HOME: work };
    expect(await exec(exe, ["--version"], env)).toEqual({ code: 0, stdout: `${VERSION}\n`, stderr: "" });

    const api = { ...env, ARMOR_ENDPOINT: stack.endpoint, ARMOR_TOKEN: stack.token, ARMOR_REPOSITORY: "acme/sea" };
    const publicKey = join(work, "key.pub.asc");
    const secretKey = join(work, "key.sec.asc");
    writeFileSync(publicKey, inject("keys").trusted.public);
    writeFileSync(secretKey, inject("keys").trusted.secret);
    for (const args of [
      ["repo", "create", "acme/sea"],
      ["key", "add", publicKey],
      ["pkgs", "add", "--dist", "stable", writeDeb(work, "sea-hello", "1.0")],
      ["publish", "--dist", "stable", "--key-file", secretKey],
    ]) {
      const r = await exec(exe, args, api);
      expect(r.code, `armor ${args.join(" ")}: ${r.stderr}`).toBe(0);
    }
    const inRelease = await fetch(`${stack.endpoint}/acme/sea/dists/stable/InRelease`);
    expect(inRelease.status).toBe(200);
    const text = await inRelease.text();
    expect(text).toMatch(/^-----BEGIN PGP SIGNED MESSAGE-----\n/);
    expect(text).toContain("\nSuite: stable\n");
  });
});

describe("the Debian package (npm run build:deb)", () => {
  it("passes dpkg-deb --info and installs an armor that runs as /usr/bin/armor", async ({ expect }) => {
    const deb = join(out, `armor-cli_${VERSION}_amd64.deb`);
    const env = { PATH: "/usr/bin:/bin" };
    const info = await exec("dpkg-deb", ["--info", deb], env);
    expect(info.code, info.stderr).toBe(0);
    expect(info.stdout).toContain(" Package: armor-cli\n");
    expect(info.stdout).toContain(` Version: ${VERSION}\n`);
    expect(info.stdout).toContain(" Architecture: amd64\n");
    const listed = await exec("dpkg-deb", ["--contents", deb], env);
    expect(listed.stdout).toMatch(/^-rwxr-xr-x root\/root +\d+ .* \.\/usr\/bin\/armor$/m);
    expect(listed.stdout).toContain("./usr/share/doc/armor-cli/copyright\n");

    const root = mkdtempSync(join(work, "root-"));
    const extracted = await exec("dpkg-deb", ["-x", deb, root], env);
    expect(extracted.code, extracted.stderr).toBe(0);
    const armor = join(root, "usr", "bin", "armor");
    expect(statSync(armor).mode & 0o777).toBe(0o755);
    expect(existsSync(join(root, "usr", "bin", "node"))).toBe(false);
    expect(await exec(armor, ["--version"], { PATH: emptyPath() })).toEqual({
      code: 0,
      stdout: `${VERSION}\n`,
      stderr: "",
    });
  });
});
