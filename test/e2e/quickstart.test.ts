/**
 * The README's quickstart, as a new user runs it: `npm start`, `npm run demo`, then apt installs
 * from what the demo published; Ctrl-C stops the stack and its state survives a restart.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "vitest";
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

function run(script: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(ROOT, "scripts", script)], { cwd: ROOT, env });
    let output = "";
    child.stdout.on("data", (d) => {
      output += d;
    });
    child.stderr.on("data", (d) => {
      output += d;
    });
    child.on("exit", (code) => resolve({ code, output }));
  });
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
