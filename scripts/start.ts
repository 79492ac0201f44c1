/**
 * `npm start`: the whole of Armor on one machine. `wrangler dev` serves the Worker with local D1, R2
 * and Durable Objects (D1 migrations applied first); the sidecar runs on PGlite (or DATABASE_URL).
 * Everything lives in `.armor/` (or ARMOR_HOME) and survives a restart; Ctrl-C stops both processes.
 * The ports are ARMOR_PORT (the Worker, 8787) and ARMOR_SIDECAR_PORT (the sidecar, 8788).
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { isAbsolute, join, relative, resolve } from "node:path";

/** A failure the person running `npm start` can act on: printed as one line, no stack. */
class StartError extends Error {}

const root = resolve(import.meta.dirname, "..");
// ARMOR_HOME moves the state folder (tests run the quickstart in a temporary one).
const data = resolve(process.env.ARMOR_HOME || join(root, ".armor"));
const wranglerState = join(data, "wrangler");
const secretsFile = join(data, "secrets.json");
/** The Worker's secrets in dotenv form, for `wrangler dev --env-file` (see `startWorker`). */
const workerSecretsFile = join(data, "worker-secrets.env");
// Run wrangler's entry with this Node (22), whatever `node` the PATH would find.
const wrangler = join(root, "node_modules", "wrangler", "bin", "wrangler.js");

interface Listener {
  /** What listens there, for messages. */
  name: string;
  port: number;
  /** The environment variable that moves it. */
  variable: string;
}

/** A port from its environment variable, or the default. */
function listener(name: string, variable: string, fallback: number): Listener {
  const text = process.env[variable];
  if (text === undefined || text === "") return { name, port: fallback, variable };
  const port = Number(text);
  if (!Number.isInteger(port) || port < 1 || port > 65_535) {
    throw new StartError(`${variable} must be a port number from 1 to 65535, not ${JSON.stringify(text)}`);
  }
  return { name, port, variable };
}

/** How a path is shown: relative to where `npm start` runs when it is inside it (`.armor/`), else whole. */
function shown(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel !== "" && !rel.startsWith("..") && !isAbsolute(rel) ? rel : path;
}

function portInUse(l: Listener): StartError {
  return new StartError(
    `port ${l.port} (127.0.0.1) is already in use, so ${l.name} cannot listen on it: stop what holds it, ` +
      `or choose another port, e.g. ${l.variable}=${l.port + 10} npm start`,
  );
}

/**
 * Refuse at once when a port is taken: wrangler would print "Address already in use" and then wait
 * for ever, and the sidecar would die with a stack. Binding 127.0.0.1 fails too when another
 * process holds the port on every address (0.0.0.0 or ::).
 */
function ensureFree(l: Listener): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", (error: NodeJS.ErrnoException) =>
      reject(
        error.code === "EADDRINUSE"
          ? portInUse(l)
          : new StartError(`cannot listen on port ${l.port}: ${error.message}`),
      ),
    );
    server.listen({ port: l.port, host: "127.0.0.1", exclusive: true }, () => server.close(() => resolve()));
  });
}

interface Secrets {
  operatorToken: string;
  sidecarSecret: string;
  adminToken: string;
}

/** The local stack's secrets: made on first start, kept in secrets.json in the state folder (mode 0600). */
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

/**
 * Start a child in its own process group, its output prefixed with `[name]`. `onOutput` sees the
 * recent output (the last chunk and what came just before it, so a line split across chunks matches).
 */
function launch(
  name: string,
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  onOutput: (recent: string) => void = () => {},
): ChildProcess {
  const child = spawn(command, args, { cwd: root, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
  const prefix = (line: string) => (line.trim() === "" ? "" : `[${name}] ${line}\n`);
  let previous = "";
  const seen = (text: string) => {
    onOutput(previous + text);
    previous = text.slice(-200);
  };
  child.stdout?.on("data", (d: Buffer) => {
    process.stdout.write(d.toString().split("\n").map(prefix).join(""));
    seen(d.toString());
  });
  child.stderr?.on("data", (d: Buffer) => {
    process.stderr.write(d.toString().split("\n").map(prefix).join(""));
    seen(d.toString());
  });
  return child;
}

/**
 * Poll `url` until it answers 200, `child` exits, or `cancel` is aborted (another part failed).
 * Each request gives up after two seconds: something else on the port may accept and never answer.
 */
async function waitFor(url: string, child: ChildProcess, name: string, cancel: AbortSignal): Promise<void> {
  for (let i = 0; i < 600 && !cancel.aborted; i++) {
    if (child.exitCode !== null)
      throw new StartError(`${name} exited with code ${child.exitCode}; see its output above`);
    try {
      if ((await fetch(url, { signal: AbortSignal.any([cancel, AbortSignal.timeout(2_000)]) })).ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  if (!cancel.aborted) throw new StartError(`${name} did not answer ${url} within two minutes; see its output above`);
}

async function main(): Promise<void> {
  const worker = listener("the Worker", "ARMOR_PORT", 8787);
  const sidecar = listener("the sidecar", "ARMOR_SIDECAR_PORT", 8788);
  if (worker.port === sidecar.port) {
    throw new StartError(`ARMOR_PORT and ARMOR_SIDECAR_PORT are both ${worker.port}: give them different ports`);
  }
  await ensureFree(worker);
  await ensureFree(sidecar);

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
  if (migrated.status !== 0) {
    throw new StartError(`applying D1 migrations failed:\n${migrated.stdout}${migrated.stderr}`);
  }

  // A port taken between the check above and the listen (a race) still fails at once.
  let refuse: (error: StartError) => void = () => {};
  const refused = new Promise<never>((_, reject) => {
    refuse = reject;
  });
  const sidecarChild = launch(
    "sidecar",
    process.execPath,
    [join(root, "sidecar", "main.ts")],
    {
      ...process.env,
      HOST: "127.0.0.1",
      PORT: String(sidecar.port),
      ARMOR_DATA_DIR: join(data, "sidecar"),
      ARMOR_SIDECAR_SECRET: s.sidecarSecret,
      ARMOR_BOOTSTRAP_TOKEN: s.adminToken,
    },
    (recent) => (recent.includes("EADDRINUSE") ? refuse(portInUse(sidecar)) : undefined),
  );
  const workerChild = startWorker(s, worker, sidecar, (recent) =>
    recent.includes("Address already in use") ? refuse(portInUse(worker)) : undefined,
  );
  const children = [workerChild, sidecarChild];
  let stopping = false;
  let interrupted = false;
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
  const interrupt = () => {
    interrupted = true;
    stop();
  };
  process.on("SIGINT", interrupt);
  process.on("SIGTERM", interrupt);
  for (const child of children) child.on("exit", () => (stopping ? undefined : stop()));

  const cancel = new AbortController();
  try {
    await Promise.race([
      refused,
      Promise.all([
        waitFor(`http://127.0.0.1:${sidecar.port}/healthz`, sidecarChild, "the sidecar", cancel.signal),
        waitFor(`http://127.0.0.1:${worker.port}/healthz`, workerChild, "the Worker", cancel.signal),
      ]),
    ]);
  } catch (error) {
    cancel.abort();
    stop();
    // Ctrl-C while starting: the children's exits are not a failure to report.
    if (interrupted) return;
    throw error;
  }
  const endpoint = `http://127.0.0.1:${worker.port}`;
  const state = shown(data);
  process.stdout.write(
    [
      "",
      `Armor is running (state in ${state}${state.endsWith("/") ? "" : "/"}, Ctrl-C to stop).`,
      `  API and repositories  ${endpoint}`,
      `  accounts sidecar      http://127.0.0.1:${sidecar.port}`,
      first
        ? `  admin token           ${s.adminToken}   (shown on first start only; also in ${shown(secretsFile)})`
        : `  admin token           in ${shown(secretsFile)} (adminToken)`,
      "",
      "Next, in another terminal (with the same ARMOR_HOME and ARMOR_PORT, if you set them):",
      "  npm run demo                     # a repository with two packages, and the apt setup to use it",
      `  armor login --endpoint ${endpoint}   # the armor command: see the README, "Five minutes"`,
      "",
    ].join("\n"),
  );
  await Promise.all(children.map((c) => new Promise((r) => (c.exitCode === null ? c.on("exit", r) : r(undefined)))));
}

/**
 * `wrangler dev` on `worker.port`. The two secrets go in a dotenv file passed with --env-file, not
 * as --var: wrangler.toml's `[secrets] required` makes wrangler look for them in .dev.vars, .env
 * files and the environment only, and warn "Missing required secrets" when given as --var. The file
 * also keeps them off the command line (visible to every user in `ps`), and --env-file makes
 * wrangler skip a .dev.vars in the checkout. Values in the environment win over the file in
 * wrangler, so the two are taken out of the environment wrangler inherits.
 */
function startWorker(
  s: Secrets,
  worker: Listener,
  sidecar: Listener,
  onOutput: (recent: string) => void,
): ChildProcess {
  writeFileSync(workerSecretsFile, `ARMOR_ADMIN_TOKEN=${s.operatorToken}\nSIDECAR_SECRET=${s.sidecarSecret}\n`, {
    mode: 0o600,
  });
  chmodSync(workerSecretsFile, 0o600);
  const { ARMOR_ADMIN_TOKEN: _token, SIDECAR_SECRET: _secret, ...env } = process.env;
  return launch(
    "worker",
    process.execPath,
    [
      wrangler,
      "dev",
      "--persist-to",
      wranglerState,
      "--port",
      String(worker.port),
      "--ip",
      "127.0.0.1",
      "--show-interactive-dev-session=false",
      "--env-file",
      workerSecretsFile,
      "--var",
      `SIDECAR_URL:http://127.0.0.1:${sidecar.port}`,
    ],
    env,
    onOutput,
  );
}

main().catch((error: unknown) => {
  // Our own refusals are one line; anything else is a bug in this script, shown with its stack.
  const message =
    error instanceof StartError
      ? error.message
      : error instanceof Error
        ? (error.stack ?? error.message)
        : String(error);
  process.stderr.write(`npm start failed: ${message}\n`);
  process.exitCode = 1;
});
