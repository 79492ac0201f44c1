/**
 * `npm run demo` (with `npm start` running): creates a repository, generates a throwaway signing
 * key, builds two small packages, publishes them with the real `armor` CLI and prints the apt
 * configuration to install from it.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import * as openpgp from "openpgp";
import { buildDeb } from "../deb/deb-writer.ts";

const root = resolve(import.meta.dirname, "..");
const home = resolve(process.env.ARMOR_HOME || join(root, ".armor"));
const dir = join(home, "demo");
const endpoint = process.env.ARMOR_ENDPOINT || `http://127.0.0.1:${process.env.ARMOR_PORT || "8787"}`;
const repository = process.env.ARMOR_DEMO_REPOSITORY ?? "demo/tools";
const hostname = "apt.demo.localhost";

/** A failure the person running the demo can act on: printed as one line, no stack. */
class DemoError extends Error {}

/** Is the stack up? Asked before anything else, so the answer is the first and only line. */
async function checkStack(): Promise<void> {
  const notRunning = `the Armor stack is not running at ${endpoint}: run \`npm start\` first (in another terminal${
    process.env.ARMOR_PORT || process.env.ARMOR_HOME ? ", with the same ARMOR_PORT and ARMOR_HOME" : ""
  })`;
  let health: Response;
  try {
    health = await fetch(`${endpoint}/healthz`, { signal: AbortSignal.timeout(5_000) });
  } catch {
    throw new DemoError(notRunning);
  }
  if (!health.ok) throw new DemoError(`${notRunning}; something else answers there (HTTP ${health.status})`);
}

function adminToken(): string {
  if (process.env.ARMOR_TOKEN) return process.env.ARMOR_TOKEN;
  const file = join(home, "secrets.json");
  if (!existsSync(file)) {
    throw new DemoError(`no ARMOR_TOKEN and no ${file}: set ARMOR_TOKEN, or ARMOR_HOME to the stack's state folder`);
  }
  return (JSON.parse(readFileSync(file, "utf8")) as { adminToken: string }).adminToken;
}

let env: NodeJS.ProcessEnv = process.env;

function armor(args: string[], allowFailure = false, echo = true): string {
  process.stdout.write(`$ armor ${args.join(" ")}\n`);
  const r = spawnSync(process.execPath, [join(root, "cli", "main.ts"), ...args], { env, encoding: "utf8" });
  if (r.stdout && echo) process.stdout.write(r.stdout.replace(/^/gm, "  "));
  if (r.stderr) process.stdout.write(r.stderr.replace(/^/gm, "  "));
  if (r.status !== 0 && !allowFailure)
    throw new DemoError(`armor ${args.slice(0, 2).join(" ")} failed (exit ${r.status})`);
  return r.stdout;
}

function deb(
  name: string,
  version: string,
  architecture: string,
  files: { path: string; data: string; mode?: number }[],
): string {
  const bytes = buildDeb({
    fields: [
      { name: "Package", value: name },
      { name: "Version", value: version },
      { name: "Architecture", value: architecture },
      { name: "Maintainer", value: "Armor Demo <demo@armor.invalid>" },
      { name: "Section", value: "utils" },
      { name: "Priority", value: "optional" },
      {
        name: "Description",
        value: `${name}, published by the Armor demo\n Installed with apt from a repository served by a local Armor.`,
      },
    ],
    files,
  });
  const path = join(dir, `${name}_${version}_${architecture}.deb`);
  writeFileSync(path, bytes);
  return path;
}

async function main(): Promise<void> {
  await checkStack();
  env = { ...process.env, ARMOR_ENDPOINT: endpoint, ARMOR_TOKEN: adminToken(), ARMOR_REPOSITORY: repository };
  mkdirSync(dir, { recursive: true });

  const secretFile = join(dir, "signing.sec.asc");
  const publicFile = join(dir, "signing.pub.asc");
  if (!existsSync(secretFile)) {
    const key = await openpgp.generateKey({
      type: "ecc",
      curve: "ed25519Legacy",
      userIDs: [{ name: "Armor demo signing key (throwaway)", email: "demo@armor.invalid" }],
      format: "armored",
    });
    writeFileSync(secretFile, key.privateKey, { mode: 0o600 });
    writeFileSync(publicFile, key.publicKey);
  }
  armor(["repo", "create", repository], true);
  // Also serve it at a hostname, so apt can reach it through the Worker as its proxy (host routing).
  await fetch(`${endpoint}/admin/v1/repositories/${repository}/hostnames/${hostname}`, {
    method: "PUT",
    headers: { authorization: `Bearer ${env.ARMOR_TOKEN}` },
  });
  armor(["key", "add", publicFile]);
  const hello = deb("armor-hello", "1.0.0", "all", [
    { path: "/usr/bin/armor-hello", data: '#!/bin/sh\necho "hello from a package Armor published"\n', mode: 0o755 },
  ]);
  const docs = deb("armor-hello-doc", "1.0.0", "all", [
    { path: "/usr/share/doc/armor-hello-doc/README", data: "Published by `npm run demo`.\n" },
  ]);
  armor(["pkgs", "add", "--dist", "stable", "--component", "main", hello, docs]);
  armor(["publish", "--dist", "stable", "--key-file", secretFile]);
  const setup = armor(["repo", "setup", "--dist", "stable"], false, false);
  process.stdout.write(
    [
      "",
      "Done. To install from it on this machine (as root, or with sudo):",
      setup.replace(/^/gm, "  "),
      `By hostname instead of path: point apt at the Worker as its proxy,`,
      `  echo 'Acquire::http::Proxy::${hostname} "${endpoint}/";' | sudo tee /etc/apt/apt.conf.d/99armor-demo`,
      `and use URIs: http://${hostname}/ in the .sources file.`,
      "",
      "Then: sudo apt-get update && sudo apt-get install armor-hello && armor-hello",
      "",
    ].join("\n"),
  );
}

main().catch((error: unknown) => {
  // Our own refusals are one line; anything else is a bug in this script, shown with its stack.
  const message =
    error instanceof DemoError
      ? error.message
      : error instanceof Error
        ? (error.stack ?? error.message)
        : String(error);
  process.stderr.write(`npm run demo: ${message}\n`);
  process.exitCode = 1;
});
