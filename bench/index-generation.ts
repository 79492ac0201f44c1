/**
 * Index generation at scale (DESIGN.md §7): a dist of 60,000 packages, with real control data from
 * the machine's Debian Packages index, must regenerate inside the 128 MB a Durable Object isolate
 * gets, and adding one package must regenerate only the index it touched.
 *
 *   npm run bench:index [-- --packages 2000 --concurrency 8 --reuse --bundle path/to/index.js]
 *   npm run bench:index -- --packages 63000 --reuse --publish 3 [--profile]
 *
 * The Worker runs under `wrangler dev` (local workerd with miniflare's D1, R2 and Durable Objects),
 * from a bundle built once at the start, so edits to the sources during a long run do not reload
 * it. Packages go through the public HTTP API as a client would send them: in batches of 256
 * (`POST …/blobs`, as `armor pkgs add` sends them; about 4.5 minutes at 63,000), then added to
 * `stable` (`main`, plus a small `contrib` that must be reused in step 2), then:
 *
 *   1. generate `stable` with every index dirty,
 *   2. upload and add one more package to `main`, generate again.
 *
 * Memory, measured two ways during each generate call (every 50 ms):
 *   - the isolate, through wrangler's DevTools proxy (V8's `Runtime.getHeapUsage`: JS heap and
 *     ArrayBuffer backing stores). This is what the 128 MB limit applies to. Locally the Worker and
 *     its Durable Object share one isolate, so it over-counts the object, never under-counts it;
 *     but the isolate answers only between its own tasks, so a short spike can fall between samples.
 *   - each workerd process's RSS from /proc, with VmHWM reset just before the call
 *     (/proc/<pid>/clear_refs), so the high-water mark is the exact peak. This is the whole
 *     process: the runtime, every isolate, and miniflare's R2, D1 and SQLite simulators, which live
 *     in the same workerd. Its rise during the call (peak − baseline) is an upper bound on what
 *     generation holds; the baseline is mostly runtime and simulators.
 *
 * `--bundle` runs a prebuilt Worker (one `wrangler deploy --dry-run --outdir` file) instead of
 * building the working tree, to compare a candidate change against the same data.
 *
 * `--publish N` measures, instead of the two steps, N full publishes as bench:peers does them
 * (`armor publish` of the one-file CLI: generate, sign with openpgp.js, upload the signatures,
 * which verifies and activates), each on a Worker started on a fresh copy of the state as the
 * ingest left it (kept in bench/.work/index-generation-<N>/pristine, so `--reuse` ingests once),
 * after a small repository was published to warm it up; then the same publish as its three
 * requests, each timed (and profiled with `--profile`), and `armor --version` for start-up.
 *
 * `--reuse` keeps the persistence directory (bench/.work/index-generation-<N>) between runs and
 * skips the upload when the repository already holds the packages; without it the directory is
 * created fresh and removed at the end.
 */
import { execFile, spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { gzipSync } from "node:zlib";
import { parse as parseToml } from "smol-toml";
import { signRelease } from "../cli/signing.ts";
import { writeAr } from "../deb/ar.ts";
import { writeTar } from "../deb/tar.ts";
import { formatIndexDocument, parseIndexDocument, UnsignedIndexDocumentSchema } from "../schema/index-document.ts";
import {
  cpuSeconds,
  type HeapUsage,
  Inspector,
  type IsolateUsage,
  measured,
  memory,
  type ProcessUsage,
  SAMPLE_MS,
  type Server,
  startWorker,
  stopWorker,
  topFunctions,
  workerdProcesses,
  wrangler,
} from "./local-worker.ts";
import { realControls } from "./synth.ts";

const { values } = parseArgs({
  options: {
    packages: { type: "string", default: "60000" },
    concurrency: { type: "string", default: "8" },
    reuse: { type: "boolean", default: false },
    /** Also take a CPU profile of each generate (bench/.work/index-generation-<N>-<step>.cpuprofile) and print its top functions. */
    profile: { type: "boolean", default: false },
    bundle: { type: "string" },
    /**
     * After the two generate steps, publish `stable` with every index dirty this many times: the
     * one-file CLI's `armor publish` whole, then the same three requests from here, each timed
     * (generate, sign with openpgp.js, upload of the signatures), and `armor --version` alone.
     */
    publish: { type: "string", default: "0" },
  },
});
const PACKAGES = positiveInt(values.packages, "--packages");
const PUBLISH_RUNS = Number(values.publish);
if (!Number.isSafeInteger(PUBLISH_RUNS) || PUBLISH_RUNS < 0) throw new Error("--publish must be a whole number");
const CONCURRENCY = positiveInt(values.concurrency, "--concurrency");
/** Packages in the second component: an index step 2 must not touch. */
const CONTRIB = 20;
/** Add requests take at most this many packages (schema/api.ts AddPackagesSchema). */
const ADD_BATCH = 1000;
/** Packages per upload request, as `armor pkgs add` batches them (cli/uploads.ts BATCH_FILES). */
const BATCH_FILES = 256;
const REPO = "bench/big";
const DIST = "stable";

const runDir = join(import.meta.dirname, ".work", `index-generation-${PACKAGES}`);
const persistDir = join(runDir, "state");
const bundleDir = join(runDir, "bundle");
/** The state right after the ingest, before any generate (`--publish` runs start from copies). */
const pristineDir = join(runDir, "pristine");
/** Outside runDir, so that it outlives a failed run; rewritten by each run. */
const logFile = join(import.meta.dirname, ".work", `index-generation-${PACKAGES}.log`);
const token = randomBytes(24).toString("hex");
const root = join(import.meta.dirname, "..");
const keys = join(root, "test", "fixtures", "keys");
/** The one-file CLI `npm run build:cli` writes, as bench:peers runs it. */
const cliBundle = join(root, "dist", "armor.mjs");
const startedAt = performance.now();

// --- packages ---------------------------------------------------------------------------------

interface Deb {
  name: string;
  sha256: string;
  bytes: Uint8Array<ArrayBuffer>;
}

const encoder = new TextEncoder();
const emptyDataTar = gzipSync(writeTar([{ name: "./" }]));

/**
 * A minimal `.deb` around a real control file. Only the control data matters here: generation
 * reads stanzas from SQLite, never the package bytes; so the data member is an empty tar.
 */
function buildDeb(control: string): Deb {
  const controlTar = writeTar([{ name: "./" }, { name: "./control", data: encoder.encode(control) }]);
  // Copied into an ArrayBuffer-backed array: fetch's BodyInit does not take a SharedArrayBuffer view.
  const bytes = new Uint8Array(
    writeAr([
      { name: "debian-binary", data: encoder.encode("2.0\n") },
      { name: "control.tar.gz", data: gzipSync(controlTar) },
      { name: "data.tar.gz", data: emptyDataTar },
    ]),
  );
  const name = /^Package: (.+)$/m.exec(control)?.[1] ?? "?";
  return { name, sha256: createHash("sha256").update(bytes).digest("hex"), bytes };
}

/**
 * A package that is new on every run (a real amd64 control file with a unique version), so that
 * with `--reuse` step 2 still adds something; amd64, so only `main/binary-amd64` becomes dirty.
 */
function extraDeb(controls: readonly string[]): Deb {
  const control = controls.find((c) => /^Architecture: amd64$/m.test(c));
  if (control === undefined) throw new Error("no amd64 control file left for the extra package");
  return buildDeb(control.replace(/^Version: (.+)$/m, (_, v: string) => `Version: ${v}+bench${Date.now()}`));
}

// --- the API ----------------------------------------------------------------------------------

interface GenerateResult {
  document: string;
  regenerated: string[];
  reused: string[];
}

class Api {
  readonly base: string;
  readonly repo: string;

  constructor(base: string, repo = REPO) {
    this.base = base;
    this.repo = repo;
  }

  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const init: RequestInit = { method, headers: { authorization: `Bearer ${token}` } };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
    }
    const res = await fetch(`${this.base}${path}`, init);
    const text = await res.text();
    if (!res.ok)
      throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 2000)} (the Worker's log: ${logFile})`);
    return JSON.parse(text) as T;
  }

  async putDeb(deb: Deb): Promise<void> {
    const res = await fetch(`${this.base}/api/v1/repositories/${this.repo}/blobs/${deb.sha256}`, {
      method: "PUT",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/vnd.debian.binary-package" },
      body: deb.bytes,
    });
    const text = await res.text();
    if (res.status !== 201 && res.status !== 200) {
      throw new Error(
        `PUT ${deb.name} (${deb.sha256}): ${res.status} ${text.slice(0, 2000)} (the Worker's log: ${logFile})`,
      );
    }
  }

  /** Several packages in one request, as `armor pkgs add` sends them (cli/uploads.ts). */
  async postBatch(debs: readonly Deb[]): Promise<void> {
    const form = new FormData();
    for (const d of debs) form.append(d.sha256, new Blob([d.bytes]), `${d.name}.deb`);
    const res = await fetch(`${this.base}/api/v1/repositories/${this.repo}/blobs`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}` },
      body: form,
    });
    const text = await res.text();
    if (!res.ok) {
      throw new Error(
        `POST a batch of ${debs.length}: ${res.status} ${text.slice(0, 2000)} (the Worker's log: ${logFile})`,
      );
    }
  }

  async add(component: string, debs: readonly Deb[]): Promise<void> {
    for (let i = 0; i < debs.length; i += ADD_BATCH) {
      const packages = debs.slice(i, i + ADD_BATCH).map((d) => d.sha256);
      await this.call("POST", `/api/v1/repositories/${this.repo}/packages`, { dist: DIST, component, packages });
    }
  }

  generate(): Promise<GenerateResult> {
    return this.call("POST", `/api/v1/repositories/${this.repo}/dists/${DIST}/generate`);
  }

  stats(): Promise<{ packages: number; dirty: string[] }> {
    return this.call("GET", `/admin/v1/repositories/${this.repo}/stats`);
  }
}

/**
 * Upload every package in batches (`POST …/blobs`, multipart/form-data, BATCH_FILES a request, as
 * `armor pkgs add` sends them), `CONCURRENCY` batches at a time, with progress on stderr. One PUT
 * per package took about 11 minutes at 63,000; what is measured here is generation, not ingest.
 */
async function uploadAll(api: Api, debs: readonly Deb[], workerPid: number): Promise<number> {
  const start = performance.now();
  const batches: Deb[][] = [];
  for (let i = 0; i < debs.length; i += BATCH_FILES) batches.push(debs.slice(i, i + BATCH_FILES));
  let next = 0;
  let done = 0;
  let reported = 0;
  const worker = async () => {
    for (let i = next++; i < batches.length; i = next++) {
      const batch = batches[i];
      if (batch === undefined) return;
      await api.postBatch(batch);
      done += batch.length;
      if (performance.now() - reported > 2000 || done === debs.length) {
        reported = performance.now();
        const rate = done / ((reported - start) / 1000);
        const eta = (debs.length - done) / rate;
        const rss = (memory(workerPid).rss / 1024).toFixed(0);
        process.stderr.write(
          `\r  uploaded ${done}/${debs.length} (${rate.toFixed(0)}/s, ${eta.toFixed(0)} s left; worker workerd RSS ${rss} MiB)   `,
        );
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  process.stderr.write("\n");
  return (performance.now() - start) / 1000;
}

// --- the run ----------------------------------------------------------------------------------

interface Step {
  label: string;
  members: number;
  seconds: number;
  result: GenerateResult | Error;
  usage: ProcessUsage[];
  isolate: IsolateUsage;
  expected: { regenerated: string[]; reused: string[] };
}

/** Memory of the Worker's workerd process and of its isolate at one moment. */
interface Snapshot {
  rss: number;
  heap: HeapUsage;
}

/** Sizes of the files a Release lists in its SHA256 section, by path. */
function releaseSizes(releaseText: string): Map<string, number> {
  const section = releaseText.split(/^SHA256:$/m)[1] ?? "";
  const sizes = new Map<string, number>();
  for (const m of section.matchAll(/^ [0-9a-f]{64} +(\d+) (\S+)$/gm)) sizes.set(m[2] ?? "", Number(m[1]));
  return sizes;
}

/** The Release text inside the unsigned TOML document. */
function releaseTextOf(document: string): string {
  const text = parseToml(document).release_text;
  if (typeof text !== "string") throw new Error("the generated document has no release_text");
  return text;
}

async function main(): Promise<void> {
  if (!values.reuse) rmSync(runDir, { recursive: true, force: true });
  mkdirSync(runDir, { recursive: true });
  const reusing = values.reuse && existsSync(persistDir);

  process.stderr.write("bundling the Worker and applying D1 migrations\n");
  rmSync(bundleDir, { recursive: true, force: true });
  if (values.bundle === undefined) wrangler(["deploy", "--dry-run", "--outdir", bundleDir]);
  else {
    // wrangler dev watches the script's directory: give it one that nothing else writes to.
    mkdirSync(bundleDir, { recursive: true });
    copyFileSync(values.bundle, join(bundleDir, "index.js"));
  }
  wrangler(["d1", "migrations", "apply", "DB", "--local", "--persist-to", persistDir]);

  process.stderr.write(`reading ${PACKAGES + CONTRIB + 1}+ control files from the machine's Packages index\n`);
  const controls = realControls(PACKAGES + CONTRIB + 1000);
  if (controls.length < PACKAGES + CONTRIB + 1) {
    throw new Error(
      `the Packages index has ${controls.length} stanzas; --packages can be at most ${controls.length - CONTRIB - 1}`,
    );
  }

  const server = await startWorker({ bundleDir, persistDir, logFile, token });
  const onSignal = () => void stopWorker(server.child).finally(() => process.exit(130));
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  let inspector: Inspector | undefined;
  try {
    const api = new Api(server.base);
    const procs = workerdProcesses(server);
    const workerPid = procs.find((p) => p.role === "worker")?.pid ?? -1;
    inspector = await Inspector.open(server.inspectorPort);
    const isolate = inspector;
    const snapshot = async (): Promise<Snapshot> => ({ rss: memory(workerPid).rss, heap: await isolate.heapUsage() });

    const wanted = PACKAGES + CONTRIB;
    let uploadLine = "upload skipped (--reuse: the repository already holds the packages)";
    let uploadMemory: [Snapshot, Snapshot] | null = null;
    const held = reusing ? ((await api.stats().catch(() => null))?.packages ?? null) : null;
    if (held === null) await api.call("POST", "/admin/v1/repositories", { id: REPO });
    if (held === null || held < wanted) {
      process.stderr.write(`building ${wanted} packages\n`);
      const debs = controls.slice(0, wanted).map(buildDeb);
      const bytes = debs.reduce((n, d) => n + d.bytes.length, 0);
      process.stderr.write(
        `uploading ${wanted} packages (${(bytes / 1048576).toFixed(1)} MiB), ${CONCURRENCY} at a time\n`,
      );
      const before = await snapshot();
      const seconds = await uploadAll(api, debs, workerPid);
      const addStart = performance.now();
      await api.add("main", debs.slice(0, PACKAGES));
      await api.add("contrib", debs.slice(PACKAGES));
      const addSeconds = (performance.now() - addStart) / 1000;
      uploadMemory = [before, await snapshot()];
      uploadLine =
        `upload: ${wanted} packages in ${seconds.toFixed(1)} s (${(wanted / seconds).toFixed(0)}/s, ` +
        `concurrency ${CONCURRENCY}); adding them to ${DIST}: ${addSeconds.toFixed(1)} s`;
    }
    if (PUBLISH_RUNS > 0) {
      if (!existsSync(pristineDir)) {
        if (uploadMemory === null) {
          throw new Error(`--publish needs the state as the ingest left it: remove ${runDir} and run again`);
        }
        await trustTestKey(api);
        // Copied with the Worker stopped, so that SQLite's files are consistent.
        await stopWorker(server.child);
        cpSync(persistDir, pristineDir, { recursive: true });
      } else await stopWorker(server.child);
      reportPublish(await publishRuns());
      return;
    }
    // Every index dirty, whatever an earlier --reuse run left generated.
    await api.call("POST", `/admin/v1/repositories/${REPO}/reindex`);

    const steps: Step[] = [];
    const profiled = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
      if (!values.profile || inspector === undefined) return fn();
      const { value, profile } = await inspector.profiled(fn);
      const file = join(import.meta.dirname, ".work", `index-generation-${PACKAGES}-${name}.cpuprofile`);
      writeFileSync(file, JSON.stringify(profile));
      process.stderr.write(`CPU profile of ${name} in ${file}; self time:\n${topFunctions(profile).join("\n")}\n`);
      return value;
    };
    process.stderr.write("step 1: generate with every index dirty\n");
    const dirty = (await api.stats()).dirty;
    const first = await measured(procs, isolate, () => profiled("full", () => api.generate()));
    steps.push({
      label: "1. full generate (all dirty)",
      members: wanted,
      seconds: first.seconds,
      result: first.value,
      usage: first.usage,
      isolate: first.isolate,
      expected: { regenerated: ["main/binary-amd64", "contrib/binary-amd64"], reused: [] },
    });

    process.stderr.write("step 2: upload and add one package, generate again\n");
    const extra = extraDeb(controls.slice(wanted));
    const addStart = performance.now();
    await api.putDeb(extra);
    await api.add("main", [extra]);
    const addOneSeconds = (performance.now() - addStart) / 1000;
    const second = await measured(procs, isolate, () => profiled("plus-one", () => api.generate()));
    steps.push({
      label: "2. +1 package, generate",
      members: wanted + 1,
      seconds: second.seconds,
      result: second.value,
      usage: second.usage,
      isolate: second.isolate,
      expected: { regenerated: ["main/binary-amd64"], reused: ["contrib/binary-amd64"] },
    });

    report(steps, { dirty, uploadLine, uploadMemory, addOneSeconds });
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    inspector?.close();
    await stopWorker(server.child);
    if (!values.reuse) rmSync(runDir, { recursive: true, force: true });
  }
}

interface PublishRun {
  /** `armor publish` through the one-file CLI, start-up included. */
  cli: number;
  /** CPU seconds of the workerd running the Worker, its object and the simulators, during `cli`. */
  workerCpu: number;
  /** `armor --version`: what starting the CLI costs every command. */
  start: number;
  /** The same publish as three requests from this process. */
  generate: number;
  sign: number;
  submit: number;
}

/** Run the one-file CLI; its wall-clock seconds. */
function runCli(base: string, home: string, args: string[]): Promise<number> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [cliBundle, ...args],
      { env: { ARMOR_ENDPOINT: base, ARMOR_TOKEN: token, HOME: home, XDG_CONFIG_HOME: join(home, "config") } },
      (error, _stdout, stderr) => {
        if (error !== null) reject(new Error(`armor ${args.join(" ")}: ${stderr}`, { cause: error }));
        else resolve((performance.now() - start) / 1000);
      },
    );
  });
}

/** The repository trusts the test key that publishes sign with. */
async function trustTestKey(api: Api): Promise<void> {
  const listed = await api.call<{ keys: unknown[] }>("GET", `/api/v1/repositories/${api.repo}/keys`);
  if (listed.keys.length > 0) return;
  await api.call("POST", `/api/v1/repositories/${api.repo}/keys`, {
    key: readFileSync(join(keys, "trusted.pub.asc"), "utf8"),
  });
}

/** Packages of the repository that warms a fresh Worker up. */
const WARM_PACKAGES = 300;
let warmDebs: Deb[] | undefined;

/**
 * Publish a small repository once, so that the measured publish runs on a Worker whose code is
 * compiled, as in bench:peers, where it follows the ingest on a Worker that has run earlier
 * publishes; a Worker just started measured about 0.7 s slower at 63,000.
 */
async function warmUp(base: string): Promise<void> {
  const api = new Api(base, "bench/warm");
  await api.call("POST", "/admin/v1/repositories", { id: api.repo });
  warmDebs ??= realControls(WARM_PACKAGES).map(buildDeb);
  const debs = warmDebs;
  await api.postBatch(debs);
  await api.add("main", debs);
  await trustTestKey(api);
  await publishSteps(api);
}

/**
 * A Worker on a fresh copy of the state right after the ingest, so that each measured publish is
 * the first one, as in bench:peers: every index rendered and every chunk written to R2 for the
 * first time (after a reindex, chunks with the same bytes are already stored and R2 puts are
 * skipped, which measured 0.5-0.7 s less at 63,000). The object is woken before `fn` runs.
 */
async function onPristine<T>(fn: (api: Api, server: Server, inspector: Inspector) => Promise<T>): Promise<T> {
  rmSync(persistDir, { recursive: true, force: true });
  cpSync(pristineDir, persistDir, { recursive: true });
  const server = await startWorker({ bundleDir, persistDir, logFile, token });
  let inspector: Inspector | undefined;
  try {
    inspector = await Inspector.open(server.inspectorPort);
    const api = new Api(server.base);
    await api.stats();
    await warmUp(server.base);
    return await fn(api, server, inspector);
  } finally {
    inspector?.close();
    await stopWorker(server.child);
  }
}

/** generate → sign → submit from this process, each step timed. */
async function publishSteps(
  api: Api,
  profiled: <T>(name: string, fn: () => Promise<T>) => Promise<T> = (_, fn) => fn(),
): Promise<Pick<PublishRun, "generate" | "sign" | "submit">> {
  let t = performance.now();
  const generated = await profiled("publish-generate", () => api.generate());
  const generate = (performance.now() - t) / 1000;
  const parsed = parseIndexDocument(generated.document, UnsignedIndexDocumentSchema);
  if (!parsed.ok) throw new Error(`unreadable document: ${parsed.error.message}`);
  t = performance.now();
  const signed = await signRelease(parsed.value.release_text, { keyFile: join(keys, "trusted.sec.asc") });
  const sign = (performance.now() - t) / 1000;
  const body = formatIndexDocument({
    ...parsed.value,
    inrelease: signed.inrelease,
    release_gpg: signed.releaseGpg,
    fingerprint: signed.fingerprint,
  });
  t = performance.now();
  await profiled("publish-submit", async () => {
    const res = await fetch(`${api.base}/api/v1/repositories/${api.repo}/dists/${DIST}/signed`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/toml" },
      body,
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`POST …/signed: ${res.status} ${text.slice(0, 2000)}`);
  });
  return { generate, sign, submit: (performance.now() - t) / 1000 };
}

/**
 * Full publishes of `stable`, each from the state right after the ingest: the CLI whole (and the
 * workerd's CPU during it), then, on another fresh copy, its three requests one by one, so that
 * the whole splits into start-up, generate, sign and submit.
 */
async function publishRuns(): Promise<PublishRun[]> {
  const built = spawnSync("npm", ["run", "-s", "build:cli"], { cwd: root, stdio: "inherit" });
  if (built.status !== 0) throw new Error("npm run build:cli failed");
  const home = join(runDir, "armor-home");
  mkdirSync(home, { recursive: true });
  const secretKey = join(keys, "trusted.sec.asc");
  const runs: PublishRun[] = [];
  for (let i = 1; i <= PUBLISH_RUNS; i++) {
    const { cli, workerCpu } = await onPristine(async (api, server) => {
      const pid = workerdProcesses(server).find((p) => p.role === "worker")?.pid ?? -1;
      const cpuBefore = cpuSeconds(pid);
      const cli = await runCli(api.base, home, [
        "publish",
        "--repository",
        REPO,
        "--dist",
        DIST,
        "--key-file",
        secretKey,
      ]);
      return { cli, workerCpu: cpuSeconds(pid) - cpuBefore };
    });
    const start = await runCli("http://127.0.0.1:9", home, ["--version"]);
    const steps = await onPristine((api, _server, inspector) =>
      publishSteps(api, async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
        if (!values.profile) return fn();
        const { value, profile } = await inspector.profiled(fn);
        const file = join(import.meta.dirname, ".work", `index-generation-${PACKAGES}-${name}-${i}.cpuprofile`);
        writeFileSync(file, JSON.stringify(profile));
        process.stderr.write(`CPU profile of ${name} in ${file}; self time:\n${topFunctions(profile).join("\n")}\n`);
        return value;
      }),
    );
    const run = { cli, workerCpu, start, ...steps };
    const rounded = JSON.stringify(run, (_, v: unknown) => (typeof v === "number" ? Number(v.toFixed(3)) : v));
    process.stderr.write(`  publish ${i}/${PUBLISH_RUNS}: ${rounded}\n`);
    runs.push(run);
  }
  return runs;
}

function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? NaN) : ((sorted[mid - 1] ?? NaN) + (sorted[mid] ?? NaN)) / 2;
}

function reportPublish(runs: readonly PublishRun[]): void {
  if (runs.length === 0) return;
  const cols: (keyof PublishRun)[] = ["cli", "workerCpu", "start", "generate", "sign", "submit"];
  console.log(`\nFull publish of ${DIST}, every index dirty (${runs.length} runs; seconds, median and each run):\n`);
  console.log(
    "| armor publish (CLI) | worker workerd CPU during it | armor --version | generate | sign (openpgp.js) | submit (verify, store, activate) |",
  );
  console.log("|---|---|---|---|---|---|");
  const cell = (k: keyof PublishRun) =>
    `${median(runs.map((r) => r[k])).toFixed(3)} (${runs.map((r) => r[k].toFixed(2)).join(" / ")})`;
  console.log(`| ${cols.map(cell).join(" | ")} |`);
}

function report(
  steps: Step[],
  ctx: { dirty: string[]; uploadLine: string; uploadMemory: [Snapshot, Snapshot] | null; addOneSeconds: number },
): void {
  const mib = (bytes: number | undefined) => (bytes === undefined ? "?" : (bytes / 1048576).toFixed(1));
  const kmib = (kib: number) => (kib / 1024).toFixed(1);
  const list = (xs: string[]) => (xs.length === 0 ? "–" : xs.join(", "));
  const wrong: string[] = [];

  console.log(
    `Index generation: ${PACKAGES} packages in ${DIST}/main (+${CONTRIB} in contrib), real control data; ` +
      `${values.bundle === undefined ? "the working tree" : `the Worker bundle ${values.bundle}`}; ` +
      `${cpus()[0]?.model ?? "?"} (${cpus().length} cores), Node ${process.version}, wrangler dev (local workerd)\n`,
  );
  console.log(ctx.uploadLine);
  if (ctx.uploadMemory !== null) {
    const [a, b] = ctx.uploadMemory;
    console.log(
      `  across the upload: worker workerd RSS ${kmib(a.rss)} → ${kmib(b.rss)} MiB; isolate JS heap used ` +
        `${mib(a.heap.usedSize)} → ${mib(b.heap.usedSize)} MiB, ArrayBuffers ${mib(a.heap.backingStorageSize)} → ` +
        `${mib(b.heap.backingStorageSize)} MiB`,
    );
  }
  console.log(`dirty before step 1: ${list(ctx.dirty)}`);
  console.log(`step 2's upload + add of the one package: ${ctx.addOneSeconds.toFixed(2)} s\n`);
  console.log("| step | packages | generate s | regenerated | reused | main Packages MiB | main Packages.gz MiB |");
  console.log("|---|---|---|---|---|---|---|");
  for (const s of steps) {
    if (s.result instanceof Error) {
      console.log(`| ${s.label} | ${s.members} | ${s.seconds.toFixed(2)} | FAILED (below) | | | |`);
      wrong.push(`${s.label}: ${s.result.message}`);
      continue;
    }
    const sizes = releaseSizes(releaseTextOf(s.result.document));
    console.log(
      `| ${s.label} | ${s.members} | ${s.seconds.toFixed(2)} | ${list(s.result.regenerated)} | ${list(s.result.reused)} | ` +
        `${mib(sizes.get("main/binary-amd64/Packages"))} | ${mib(sizes.get("main/binary-amd64/Packages.gz"))} |`,
    );
    const same = (a: string[], b: string[]) => [...a].sort().join() === [...b].sort().join();
    if (!same(s.result.regenerated, s.expected.regenerated) || !same(s.result.reused, s.expected.reused)) {
      wrong.push(
        `${s.label}: regenerated [${s.result.regenerated}] reused [${s.result.reused}], ` +
          `expected [${s.expected.regenerated}] and [${s.expected.reused}]`,
      );
    }
  }

  console.log("\nThe isolate (V8's Runtime.getHeapUsage; the Worker and its Durable Object share it locally):\n");
  console.log(
    "| step | JS heap before MiB | peak MiB | ArrayBuffers before MiB | peak MiB | peak heap + ArrayBuffers MiB | rise MiB | samples |",
  );
  console.log("|---|---|---|---|---|---|---|---|");
  for (const s of steps) {
    const i = s.isolate;
    const before = i.baseline.usedSize + i.baseline.backingStorageSize;
    console.log(
      `| ${s.label} | ${mib(i.baseline.usedSize)} | ${mib(i.peakUsed)} | ${mib(i.baseline.backingStorageSize)} | ` +
        `${mib(i.peakBacking)} | ${mib(i.peakTotal)} | ${mib(i.peakTotal - before)} | ${i.samples} |`,
    );
  }

  console.log("\nThe workerd processes (/proc/<pid>/status):\n");
  console.log("| step | workerd | RSS before MiB | peak RSS MiB | rise MiB | RSS after MiB | VmHWM MiB | CPU s |");
  console.log("|---|---|---|---|---|---|---|---|");
  for (const s of steps) {
    for (const u of s.usage) {
      const hwm = `${kmib(u.hwm)}${u.hwmReset ? "" : " (since start)"}`;
      console.log(
        `| ${s.label} | ${u.process.role} (pid ${u.process.pid}) | ${kmib(u.baseline)} | ${kmib(u.peak)} | ` +
          `${kmib(u.peak - u.baseline)} | ${kmib(u.after)} | ${hwm} | ${u.cpu.toFixed(2)} |`,
      );
    }
  }
  console.log(
    `\nSampled every ${SAMPLE_MS} ms; VmHWM is reset before each call, so it is the exact peak of the process.` +
      "\nRSS is the whole process: the runtime, every isolate, and miniflare's R2/D1/SQLite simulators, which" +
      "\nshare the 'worker' process. The 128 MB limit applies to one isolate: judge the isolate's peak, and the" +
      "\nRSS rise during generate as an upper bound on what generation holds.",
  );
  console.log(`\nwhole benchmark: ${((performance.now() - startedAt) / 1000).toFixed(0)} s`);
  if (wrong.length > 0) {
    console.log(`\nUNEXPECTED:\n${wrong.join("\n")}`);
    process.exitCode = 1;
  }
}

function positiveInt(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`${flag} must be a positive integer, not ${text}`);
  return n;
}

await main();
