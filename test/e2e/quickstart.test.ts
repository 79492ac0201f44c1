/**
 * The README's quickstart, as a new user runs it: `npm start`, `npm run demo`, then apt installs
 * from what the demo published; Ctrl-C stops the stack and its state survives a restart. And what
 * the two scripts say when they cannot do their job: a port in use, no stack to demo against.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, it } from "vitest";
import { aptRoot, problems, requireAptTools } from "./apt.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

interface Started {
  child: ChildProcess;
  output: () => string;
}

function start(env: NodeJS.ProcessEnv): Promise<Started> {
  const child = spawn(process.execPath, [join(ROOT, "scripts", "start.ts")], {
    cwd: ROOT,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (d) => {
    output += d;
  });
  child.stderr?.on("data", (d) => {
    output += d;
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`npm start did not come up:\n${output}`)), 90_000);
    const check = setInterval(() => {
      if (output.includes("Armor is running")) {
        clearTimeout(timer);
        clearInterval(check);
        resolve({ child, output: () => output });
      }
    }, 100);
    child.on("exit", (code) => {
      clearTimeout(timer);
      clearInterval(check);
      reject(new Error(`npm start exited with ${code}:\n${output}`));
    });
  });
}

async function interrupt(started: Started): Promise<number | null> {
  const exited = new Promise<number | null>((resolve) => started.child.once("exit", (code) => resolve(code)));
  started.child.kill("SIGINT");
  return exited;
}

interface Ran {
  code: number | null;
  /** stdout and stderr as they came. */
  output: string;
  stderr: string;
}

/** Run a script to its end; `onOutput` sees the output so far whenever more arrives. */
function run(
  script: string,
  env: NodeJS.ProcessEnv,
  onOutput: (output: string, child: ChildProcess) => void = () => {},
): Promise<Ran> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(ROOT, "scripts", script)], { cwd: ROOT, env });
    let output = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      output += d;
      onOutput(output, child);
    });
    child.stderr.on("data", (d) => {
      output += d;
      stderr += d;
      onOutput(output, child);
    });
    child.on("close", (code) => resolve({ code, output, stderr }));
  });
}

/** Hold `port` on 127.0.0.1, as another program would. */
function occupy(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer((socket) => socket.destroy());
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve(server));
  });
}

const homes: string[] = [];
afterAll(() => {
  for (const home of homes) rmSync(home, { recursive: true, force: true });
});

/** The environment of a fresh checkout's shell: a new state folder and free ports. */
async function freshEnv(): Promise<NodeJS.ProcessEnv> {
  const home = mkdtempSync(join(tmpdir(), "armor-home-"));
  homes.push(home);
  return {
    PATH: process.env.PATH,
    HOME: home,
    ARMOR_HOME: home,
    ARMOR_PORT: String(await freePort()),
    ARMOR_SIDECAR_PORT: String(await freePort()),
  };
}

describe("the quickstart", () => {
  it("starts the stack, publishes the demo, apt installs from it, and the state survives a restart", async ({
    expect,
  }) => {
    requireAptTools();
    const home = mkdtempSync(join(tmpdir(), "armor-home-"));
    const port = await freePort();
    const env = {
      PATH: process.env.PATH,
      HOME: home,
      ARMOR_HOME: home,
      ARMOR_PORT: String(port),
      ARMOR_SIDECAR_PORT: String(await freePort()),
    };
    const first = await start(env);
    expect(first.output()).toMatch(/admin token +armor_[a-z2-7]{8}_\S+ +\(shown on first start only/);
    expect(first.output()).toContain(`Armor is running (state in ${home}/, Ctrl-C to stop).`);
    expect(first.output()).toContain(`also in ${join(home, "secrets.json")})`);
    // wrangler.toml requires two secrets; npm start gives them where wrangler looks for them.
    expect(first.output()).not.toContain("Missing required secrets");
    const endpoint = `http://127.0.0.1:${port}`;
    try {
      const demo = await run("demo.ts", env);
      expect(demo.code, demo.output).toBe(0);
      expect(demo.output).toContain("published stable: release r1 is active");

      const apt = aptRoot();
      const keyring = join(apt.dir, "demo-tools-archive-keyring.gpg");
      writeFileSync(
        keyring,
        Buffer.from(await (await fetch(`${endpoint}/demo/tools/archive-keyring.gpg`)).arrayBuffer()),
      );
      apt.addSource("demo", {
        uris: [`${endpoint}/demo/tools/`],
        suites: ["stable"],
        components: ["main"],
        signedBy: keyring,
      });
      const update = await apt.get(["update"]);
      expect(update.code, update.output).toBe(0);
      expect(problems(update)).toEqual([]);
      expect((await apt.policy("armor-hello")).candidate).toBe("1.0.0");
      const install = await apt.get(["install", "--download-only", "-y", "armor-hello"]);
      expect(install.code, install.output).toBe(0);
      expect(readdirSync(apt.archives).filter((f) => f.endsWith(".deb"))).toEqual(["armor-hello_1.0.0_all.deb"]);
      apt.cleanup();
    } finally {
      expect(await interrupt(first)).toBe(0);
    }
    expect(first.output()).toContain("stopping Armor");
    await expect(fetch(`${endpoint}/healthz`)).rejects.toThrow();

    const second = await start(env);
    try {
      expect(second.output()).toContain("admin token           in");
      expect(second.output()).not.toMatch(/admin token +armor_/);
      const inRelease = await fetch(`${endpoint}/demo/tools/dists/stable/InRelease`);
      expect(inRelease.status).toBe(200);
    } finally {
      expect(await interrupt(second)).toBe(0);
    }
  }, 240_000);
});

describe("npm start and npm run demo, when they cannot do their job", () => {
  it("npm start refuses a port in use at once, naming the port and the variable that moves it", async ({ expect }) => {
    for (const variable of ["ARMOR_PORT", "ARMOR_SIDECAR_PORT"]) {
      const env = await freshEnv();
      const port = Number(env[variable]);
      const holder = await occupy(port);
      try {
        const began = Date.now();
        const r = await run("start.ts", env);
        expect(r.code).toBe(1);
        expect(Date.now() - began).toBeLessThan(10_000);
        expect(r.stderr).toMatch(
          new RegExp(
            `^npm start failed: port ${port} \\(127\\.0\\.0\\.1\\) is already in use, .* e\\.g\\. ${variable}=${port + 10} npm start\n$`,
          ),
        );
      } finally {
        holder.close();
      }
    }
  });

  it("npm start stops at once when the port is taken after its check, as wrangler says so", async ({ expect }) => {
    const env = await freshEnv();
    const port = Number(env.ARMOR_PORT);
    let holder: Promise<Server> | undefined;
    let taken = 0;
    // wrangler prints its banner before it listens: take the port then.
    const r = await run("start.ts", env, (output, child) => {
      if (holder === undefined && output.includes("[worker]")) {
        taken = Date.now();
        holder = occupy(port);
        // Should wrangler ever listen first, stop the stack it started rather than wait on it.
        holder.catch(() => child.kill("SIGINT"));
      }
    });
    try {
      expect(holder, r.output).toBeDefined();
      await expect(holder).resolves.toBeDefined();
      expect(r.output).toContain(`Address already in use (127.0.0.1:${port})`);
      expect(r.code).toBe(1);
      expect(Date.now() - taken).toBeLessThan(30_000);
      expect(r.stderr).toMatch(
        new RegExp(`npm start failed: port ${port} \\(127\\.0\\.0\\.1\\) is already in use, .*ARMOR_PORT=`),
      );
    } finally {
      (await holder)?.close();
    }
  }, 60_000);

  it("npm run demo without a running stack says so in one line and exits 1", async ({ expect }) => {
    const env = await freshEnv();
    const r = await run("demo.ts", env);
    expect(r.code).toBe(1);
    expect(r.output).toBe(
      `npm run demo: the Armor stack is not running at http://127.0.0.1:${env.ARMOR_PORT}: run \`npm start\` first ` +
        "(in another terminal, with the same ARMOR_PORT and ARMOR_HOME)\n",
    );
  });
});
