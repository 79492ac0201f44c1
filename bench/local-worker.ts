/**
 * The Worker under `wrangler dev` for benchmarks, and how to measure it: its workerd processes'
 * RSS and CPU from /proc, and its isolate's heap over wrangler's DevTools proxy. Shared by
 * index-generation.ts and peers.ts; see index-generation.ts for what each number means.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { closeSync, openSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";

/** How often `measured` samples memory. */
export const SAMPLE_MS = 50;
const root = join(import.meta.dirname, "..");
const wranglerBin = join(root, "node_modules", "wrangler", "bin", "wrangler.js");

/** Where one `wrangler dev` runs from, keeps its state and writes its log; the admin token it accepts. */
export interface WorkerSetup {
  bundleDir: string;
  persistDir: string;
  logFile: string;
  token: string;
}

export function wrangler(args: string[]): void {
  execFileSync(process.execPath, [wranglerBin, ...args], {
    cwd: root,
    env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
    stdio: ["ignore", "ignore", "inherit"],
  });
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address !== null ? resolve(address.port) : reject()));
    });
  });
}

export interface Server {
  base: string;
  child: ChildProcess;
  port: number;
  inspectorPort: number;
}

export async function startWorker(setup: WorkerSetup): Promise<Server> {
  const { bundleDir, persistDir, logFile, token } = setup;
  const [port, inspectorPort] = [await freePort(), await freePort()];
  const log = openSync(logFile, "w");
  const child = spawn(
    process.execPath,
    [
      wranglerBin,
      "dev",
      join(bundleDir, "index.js"),
      // Named, or wrangler would look for a config upwards from the script's directory.
      "--config",
      join(root, "wrangler.toml"),
      "--no-bundle",
      "--persist-to",
      persistDir,
      "--ip",
      "127.0.0.1",
      "--port",
      String(port),
      "--inspector-port",
      String(inspectorPort),
      "--var",
      `ARMOR_ADMIN_TOKEN:${token}`,
      "--show-interactive-dev-session=false",
      "--log-level",
      "warn",
    ],
    {
      cwd: root,
      env: {
        ...process.env,
        WRANGLER_SEND_METRICS: "false",
        // wrangler dev's local observability collector and explorer, on by default: every span
        // (each SQL statement, RPC call and R2 operation) is reported to a collector worker that
        // stores it, on the same workerd thread as the Worker. It cost a quarter of workerd's CPU
        // during an ingest (bench/RESULTS.md); production has no such collector on the isolate's
        // thread, and the peers pay no tracing tax, so the benchmarks run without it.
        X_LOCAL_OBSERVABILITY: process.env.X_LOCAL_OBSERVABILITY ?? "false",
        X_LOCAL_EXPLORER: process.env.X_LOCAL_EXPLORER ?? "false",
      },
      stdio: ["ignore", log, log],
    },
  );
  closeSync(log);
  // 127.0.0.1 is one of the platform hosts in wrangler.toml, and avoids localhost resolving to ::1.
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline && child.exitCode === null) {
    try {
      if ((await fetch(`${base}/healthz`)).ok) return { base, child, port, inspectorPort };
    } catch {
      // not listening yet
    }
    await sleep(250);
  }
  const why = child.exitCode === null ? "did not answer within 60 s" : `exited (${child.exitCode})`;
  await stopWorker(child);
  throw new Error(`wrangler dev ${why}; see ${logFile}`);
}

/** Stop wrangler and, should any outlive it, the processes it started (by PID, nothing else). */
export async function stopWorker(child: ChildProcess): Promise<void> {
  if (child.pid === undefined) return;
  const started = descendants(child.pid);
  if (child.exitCode === null) {
    let timer: NodeJS.Timeout | undefined;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    await Promise.race([exited, new Promise((resolve) => (timer = setTimeout(resolve, 10_000)))]);
    clearTimeout(timer);
  }
  for (const pid of [child.pid, ...started]) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
}

// --- /proc ------------------------------------------------------------------------------------

export function descendants(rootPid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // exited while we looked
    }
  }
  const out: number[] = [];
  const queue = [rootPid];
  for (let pid = queue.shift(); pid !== undefined; pid = queue.shift()) {
    for (const c of children.get(pid) ?? []) {
      out.push(c);
      queue.push(c);
    }
  }
  return out;
}

export interface Workerd {
  pid: number;
  /** wrangler runs two: the proxy on the public port, and the one running the Worker and the simulators. */
  role: "worker" | "proxy";
}

export function workerdProcesses(server: Server): Workerd[] {
  const found: Workerd[] = [];
  for (const pid of descendants(server.child.pid ?? -1)) {
    try {
      if (readFileSync(`/proc/${pid}/comm`, "utf8").trim() !== "workerd") continue;
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
      const proxy = cmdline.some((a) => a.endsWith(`=127.0.0.1:${server.port}`));
      found.push({ pid, role: proxy ? "proxy" : "worker" });
    } catch {
      // exited while we looked
    }
  }
  if (!found.some((p) => p.role === "worker")) throw new Error("found no workerd process under wrangler dev");
  return found.sort((a, b) => a.role.localeCompare(b.role)).reverse();
}

/** VmRSS and VmHWM in KiB. */
export function memory(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB$`, "m").exec(status)?.[1] ?? Number.NaN);
  return { rss: kib("VmRSS"), hwm: kib("VmHWM") };
}

const CLOCK_TICKS = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;

/** User + system CPU seconds the process has used. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/** Reset VmHWM to the current RSS (proc(5), clear_refs "5"); false where that is not permitted. */
function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, "5");
    return true;
  } catch {
    return false;
  }
}

/** V8's own numbers for one isolate (CDP `Runtime.getHeapUsage`), in bytes. */
export interface HeapUsage {
  usedSize: number;
  totalSize: number;
  /** ArrayBuffer backing stores (chunks, parts, gzip buffers): outside the JS heap, inside the isolate. */
  backingStorageSize: number;
}

// Node's WebSocket (undici) takes request headers in its init; the DOM typings that
// tsconfig.node.json includes do not declare that option.
const NodeWebSocket = WebSocket as unknown as new (url: string, init: { headers: Record<string, string> }) => WebSocket;

/**
 * The Worker's isolate through wrangler's DevTools proxy (`--inspector-port`). Locally the Worker
 * and its Durable Object run in this one isolate, so its heap counts both: more than the object
 * alone would hold in production, never less.
 */
/** A V8 CPU profile (DevTools protocol `Profiler.Profile`). */
export interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }[];
  samples: number[];
  timeDeltas: number[];
}

/** Self time per function of a profile, largest first, as "ms  function  file:line". */
export function topFunctions(profile: CpuProfile, limit = 25): string[] {
  const byNode = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const frame = byNode.get(id)?.callFrame;
    const name =
      frame === undefined
        ? "?"
        : `${frame.functionName || "(anonymous)"}  ${frame.url.split("/").pop()}:${frame.lineNumber + 1}`;
    self.set(name, (self.get(name) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  });
  return [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([name, ms]) => `${ms.toFixed(0).padStart(7)} ms  ${name}`);
}

export class Inspector {
  readonly #ws: WebSocket;
  readonly #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  #id = 0;

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.addEventListener("message", (event) => {
      const message = JSON.parse(String(event.data)) as { id?: number; result?: unknown; error?: { message: string } };
      const waiter = message.id === undefined ? undefined : this.#pending.get(message.id);
      if (waiter === undefined || message.id === undefined) return; // an event, not an answer
      this.#pending.delete(message.id);
      if (message.error) waiter.reject(new Error(`inspector: ${message.error.message}`));
      else waiter.resolve(message.result);
    });
  }

  static async open(port: number): Promise<Inspector> {
    // The proxy refuses an upgrade without an Origin it knows (DevTools' or localhost's).
    const ws = new NodeWebSocket(`ws://127.0.0.1:${port}/ws`, { headers: { origin: "http://localhost" } });
    await new Promise((resolve, reject) => {
      ws.addEventListener("open", resolve, { once: true });
      ws.addEventListener("error", () => reject(new Error(`cannot open the DevTools proxy on port ${port}`)), {
        once: true,
      });
    });
    return new Inspector(ws);
  }

  heapUsage(): Promise<HeapUsage> {
    return this.send("Runtime.getHeapUsage") as Promise<HeapUsage>;
  }

  /** One DevTools protocol call. */
  send(method: string, params: Record<string, unknown> = {}): Promise<unknown> {
    const id = ++this.#id;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#ws.send(JSON.stringify({ id, method, params }));
    });
  }

  /**
   * Run `fn` under V8's sampling CPU profiler in the isolate; returns its value and the profile
   * (Chrome's .cpuprofile format: open it in DevTools' Performance panel).
   */
  async profiled<T>(fn: () => Promise<T>): Promise<{ value: T; profile: CpuProfile }> {
    await this.send("Profiler.enable");
    await this.send("Profiler.setSamplingInterval", { interval: 200 });
    await this.send("Profiler.start");
    try {
      const value = await fn();
      const { profile } = (await this.send("Profiler.stop")) as { profile: CpuProfile };
      return { value, profile };
    } finally {
      await this.send("Profiler.disable").catch(() => undefined);
    }
  }

  close(): void {
    this.#ws.close();
  }
}

export interface IsolateUsage {
  baseline: HeapUsage;
  after: HeapUsage;
  peakUsed: number;
  peakBacking: number;
  /** The largest used + backing seen in one sample. */
  peakTotal: number;
  samples: number;
}

export interface ProcessUsage {
  process: Workerd;
  baseline: number;
  peak: number;
  after: number;
  hwm: number;
  hwmReset: boolean;
  cpu: number;
}

export async function measured<T>(
  procs: Workerd[],
  inspector: Inspector,
  call: () => Promise<T>,
): Promise<{ value: T | Error; seconds: number; usage: ProcessUsage[]; isolate: IsolateUsage }> {
  await sleep(1000); // let the upload's tail settle, so the baseline is an idle process
  const usage = procs.map((p) => {
    const hwmReset = resetPeak(p.pid);
    const { rss } = memory(p.pid);
    return { process: p, baseline: rss, peak: rss, after: rss, hwm: 0, hwmReset, cpu: -cpuSeconds(p.pid) };
  });
  const baseline = await inspector.heapUsage();
  const isolate: IsolateUsage = {
    baseline,
    after: baseline,
    peakUsed: baseline.usedSize,
    peakBacking: baseline.backingStorageSize,
    peakTotal: baseline.usedSize + baseline.backingStorageSize,
    samples: 1,
  };
  const record = (h: HeapUsage) => {
    isolate.peakUsed = Math.max(isolate.peakUsed, h.usedSize);
    isolate.peakBacking = Math.max(isolate.peakBacking, h.backingStorageSize);
    isolate.peakTotal = Math.max(isolate.peakTotal, h.usedSize + h.backingStorageSize);
    isolate.samples++;
  };
  // The isolate answers between its own tasks, so a sample can wait; never queue a second one.
  let heapSample: Promise<void> | null = null;
  const sample = () => {
    for (const u of usage) u.peak = Math.max(u.peak, memory(u.process.pid).rss);
    heapSample ??= inspector
      .heapUsage()
      .then(record, () => undefined) // a lost sample shows in the sample count
      .finally(() => {
        heapSample = null;
      });
  };
  const timer = setInterval(sample, SAMPLE_MS);
  const start = performance.now();
  try {
    // A failed call is reported with what it cost, not thrown: how long until it failed matters too.
    const value = await call().catch((cause: unknown) => (cause instanceof Error ? cause : new Error(String(cause))));
    const seconds = (performance.now() - start) / 1000;
    clearInterval(timer);
    sample();
    await heapSample;
    isolate.after = await inspector.heapUsage();
    record(isolate.after);
    for (const u of usage) {
      const m = memory(u.process.pid);
      u.after = m.rss;
      u.hwm = m.hwm;
      u.cpu += cpuSeconds(u.process.pid);
    }
    return { value, seconds, usage, isolate };
  } finally {
    clearInterval(timer);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
