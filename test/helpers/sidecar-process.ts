/**
 * Run the real sidecar as a separate process (`node sidecar/main.ts`), as `npm start` and the
 * Worker integration tests do, and wait for its listening line.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { BOOTSTRAP_LINE } from "../../sidecar/bootstrap.ts";
import { type Finished, finished } from "./processes.ts";

const MAIN = new URL("../../sidecar/main.ts", import.meta.url).pathname;
const LISTENING = /^armor sidecar listening on (http:\/\/\S+)$/m;

export interface SidecarProcess {
  /** http://127.0.0.1:PORT */
  url: string;
  /** The admin token printed on first start; null when the database already had accounts. */
  bootstrapToken: string | null;
  /** Everything the process printed so far. */
  output(): { stdout: string; stderr: string };
  /** SIGTERM, and wait for the exit code. */
  stop(): Promise<number>;
}

/**
 * Start the sidecar with a clean environment plus `env` (PORT defaults to 0, a free port) and
 * resolve once it listens; reject with its output if it exits first or takes over `timeoutMs`.
 */
export function startSidecarProcess(env: Record<string, string>, timeoutMs = 20_000): Promise<SidecarProcess> {
  const child = spawn(process.execPath, [MAIN], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", PORT: "0", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (d) => {
    stdout += d;
  });
  child.stderr?.on("data", (d) => {
    stderr += d;
  });
  const exited = new Promise<number>((resolve) =>
    child.on("exit", (code, signal) => resolve(code ?? (signal ? 128 : -1))),
  );
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`the sidecar did not start within ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    const onData = () => {
      const url = LISTENING.exec(stdout)?.[1];
      if (url === undefined) return;
      clearTimeout(timer);
      child.stdout?.off("data", onData);
      resolve({
        url,
        bootstrapToken: BOOTSTRAP_LINE.exec(stdout)?.[1] ?? null,
        output: () => ({ stdout, stderr }),
        stop: () => stop(child, exited),
      });
    };
    child.stdout?.on("data", onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`the sidecar exited with ${code} before listening\n${stdout}\n${stderr}`));
    });
  });
}

/** Run the sidecar to completion (for starts that must fail; killed after `timeoutMs`); its exit code and output. */
export async function runSidecarProcess(env: Record<string, string>, timeoutMs = 20_000): Promise<Finished> {
  const child = spawn(process.execPath, [MAIN], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", PORT: "0", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  try {
    return await finished(child);
  } finally {
    clearTimeout(timer);
  }
}

function stop(child: ChildProcess, exited: Promise<number>): Promise<number> {
  if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
  return exited;
}
