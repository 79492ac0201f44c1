/**
 * `npm start`: the whole of Armor on one machine. `wrangler dev` serves the Worker with local D1, R2
 * and Durable Objects (D1 migrations applied first); the sidecar runs on PGlite (or DATABASE_URL).
 * Everything lives in `.armor/` and survives a restart; Ctrl-C stops both processes.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

const root = resolve(import.meta.dirname, "..");
// ARMOR_HOME moves the state folder (tests run the quickstart in a temporary one).
const data = process.env.ARMOR_HOME ?? join(root, ".armor");
const wranglerState = join(data, "wrangler");
const secretsFile = join(data, "secrets.json");
const workerPort = Number(process.env.ARMOR_PORT ?? "8787");
const sidecarPort = Number(process.env.ARMOR_SIDECAR_PORT ?? "8788");
// Run wrangler's entry with this Node (22), whatever `node` the PATH would find.
const wrangler = join(root, "node_modules", "wrangler", "bin", "wrangler.js");

interface Secrets {
  operatorToken: string;
  sidecarSecret: string;
  adminToken: string;
}

/** The local stack's secrets: made on first start, kept in .armor/secrets.json (mode 0600). */
function secrets(): { value: Secrets; first: boolean } {
  if (existsSync(secretsFile)) return { value: JSON.parse(readFileSync(secretsFile, "utf8")) as Secrets, first: false };
  const base32 = "abcdefghijklmnopqrstuvwxyz234567";
  const prefix = [...randomBytes(8)].map((b) => base32[b % 32]).join("");
  const value: Secrets = {
    operatorToken: `operator-${randomBytes(24).toString("hex")}`,
    sidecarSecret: randomBytes(32).toString("hex"),
    adminToken: `armor_${prefix}_${randomBytes(32).toString("base64url")}`,
  };
  mkdirSync(data, { recursive: true });
  writeFileSync(secretsFile, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
  return { value, first: true };
}

function launch(name: string, command: string, args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  const child = spawn(command, args, {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  const prefix = (line: string) => (line.trim() === "" ? "" : `[${name}] ${line}\n`);
  child.stdout?.on("data", (d: Buffer) => process.stdout.write(d.toString().split("\n").map(prefix).join("")));
  child.stderr?.on("data", (d: Buffer) => process.stderr.write(d.toString().split("\n").map(prefix).join("")));
  return child;
}

async function waitFor(url: string, child: ChildProcess, name: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) throw new Error(`${name} exited with code ${child.exitCode}; see its output above`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${name} did not answer ${url} within two minutes`);
}

async function main(): Promise<void> {
  const { value: s, first } = secrets();
  mkdirSync(wranglerState, { recursive: true });
  const migrated = spawnSync(
    process.execPath,
    [wrangler, "d1", "migrations", "apply", "DB", "--local", "--persist-to", wranglerState],
    {
      cwd: root,
      encoding: "utf8",
      env: { ...process.env, CI: "true" },
    },
  );
  if (migrated.status !== 0) throw new Error(`applying D1 migrations failed:\n${migrated.stdout}${migrated.stderr}`);

  const sidecar = launch("sidecar", process.execPath, [join(root, "sidecar", "main.ts")], {
    PORT: String(sidecarPort),
    ARMOR_DATA_DIR: join(data, "sidecar"),
    ARMOR_SIDECAR_SECRET: s.sidecarSecret,
    ARMOR_BOOTSTRAP_TOKEN: s.adminToken,
  });
  const worker = launch(
    "worker",
    process.execPath,
    [
      wrangler,
      "dev",
      "--persist-to",
      wranglerState,
      "--port",
      String(workerPort),
      "--ip",
      "127.0.0.1",
      "--show-interactive-dev-session=false",
      "--var",
      `SIDECAR_URL:http://127.0.0.1:${sidecarPort}`,
      "--var",
      `SIDECAR_SECRET:${s.sidecarSecret}`,
      "--var",
      `ARMOR_ADMIN_TOKEN:${s.operatorToken}`,
    ],
    {},
  );
  const children = [worker, sidecar];
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    process.stdout.write("\nstopping Armor…\n");
    for (const child of children) {
      if (child.pid !== undefined && child.exitCode === null) {
        try {
          process.kill(-child.pid, "SIGTERM");
        } catch {
          // already gone
        }
      }
    }
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  for (const child of children) child.on("exit", () => (stopping ? undefined : stop()));

  try {
    await Promise.all([
      waitFor(`http://127.0.0.1:${sidecarPort}/healthz`, sidecar, "the sidecar"),
      waitFor(`http://127.0.0.1:${workerPort}/healthz`, worker, "the Worker"),
    ]);
  } catch (error) {
    stop();
    throw error;
  }
  const endpoint = `http://127.0.0.1:${workerPort}`;
  process.stdout.write(
    [
      "",
      "Armor is running (state in .armor/, Ctrl-C to stop).",
      `  API and repositories  ${endpoint}`,
      `  accounts sidecar      http://127.0.0.1:${sidecarPort}`,
      first
        ? `  admin token           ${s.adminToken}   (shown on first start only; also in .armor/secrets.json)`
        : "  admin token           in .armor/secrets.json (adminToken)",
      "",
      "Next, in another terminal:",
      "  npm run demo                                   # a repository with two packages, and the apt setup to use it",
      `  npx armor login --endpoint ${endpoint}      # then armor repo create, armor pkgs add, armor publish …`,
      "",
    ].join("\n"),
  );
  await Promise.all(children.map((c) => new Promise((r) => (c.exitCode === null ? c.on("exit", r) : r(undefined)))));
}

main().catch((error: unknown) => {
  process.stderr.write(`npm start failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
