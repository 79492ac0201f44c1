/**
 * Armor against the tools people run today (issue 7), fed the same files in the same run:
 * reprepro, aptly, apt-ftparchive (with its cache database) and dpkg-scanpackages, each installed
 * from Debian's packages when missing.
 *
 *   npm run bench:peers [-- --packages 2000 --runs 3 --concurrency 8 --peers reprepro,aptly,apt-ftparchive,dpkg-scanpackages]
 *
 * Input: N + 2 small valid `.deb` files synthesized from real Debian control data (bench/synth.ts:
 * gzip, xz and zstd control members), N for the dist, one for the incremental publish and one for
 * the server-side generate timing. For every tool, in each run, on fresh state:
 *
 *   1. ingest the N packages;
 *   2. full publish of `stable` (indexes, Release, InRelease and Release.gpg signed with the
 *      test-only key test/fixtures/keys/trusted.sec.asc, in a temporary GNUPGHOME);
 *   3. incremental publish: add one more package, publish again.
 *
 * Armor is the real CLI as shipped (`npm run build:cli`: one file, dist/armor.mjs, built at the
 * start; run from source it spends about 0.3 s more per command loading TypeScript modules)
 * against `wrangler dev` (local workerd, miniflare's D1, R2 and Durable Objects) running a bundle
 * built once at the start: ingest = `armor pkgs add`
 * (parallel uploads), publish = `armor publish --key-file …` (generate, sign locally, upload). Its
 * server-side generate is also timed directly (POST …/dists/stable/generate) after adding the
 * second extra package, since the incremental target is server-side. The workerd memory
 * during the full publish is sampled as in index-generation.ts.
 *
 * Then, with the last run's repositories: `apt-get update` and `apt-get download` of 100 packages
 * with an isolated apt (test/e2e/apt.ts) through the Worker, and through nginx serving reprepro's
 * output from disk.
 *
 * Times are wall-clock medians over the runs. Markdown goes to stdout, JSON to bench/results.json
 * (gitignored).
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { copyFileSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { basename, join } from "node:path";
import { parseArgs } from "node:util";
import { aptRoot } from "../test/e2e/apt.ts";
import {
  cpuSeconds,
  freePort,
  Inspector,
  type IsolateUsage,
  measured,
  type ProcessUsage,
  type Server,
  startWorker,
  stopWorker,
  topFunctions,
  workerdProcesses,
  wrangler,
} from "./local-worker.ts";
import { realControls, synthesizeDebs } from "./synth.ts";

const { values } = parseArgs({
  options: {
    packages: { type: "string", default: "2000" },
    runs: { type: "string", default: "3" },
    concurrency: { type: "string", default: "8" },
    /** Which peers to run; dpkg-scanpackages reads every .deb on every publish (about 14 minutes each at 63,000). */
    peers: { type: "string", default: "reprepro,aptly,apt-ftparchive,dpkg-scanpackages" },
    /** Armor's ingest under V8's CPU profiler: its top functions and each workerd's CPU seconds go to stderr. */
    profile: { type: "boolean", default: false },
    /** Also record the Worker's workerd with Linux perf during Armor's ingest (needs Debian's linux-perf). */
    perf: { type: "boolean", default: false },
  },
});
const PACKAGES = positiveInt(values.packages, "--packages");
const RUNS = positiveInt(values.runs, "--runs");
const CONCURRENCY = positiveInt(values.concurrency, "--concurrency");
/** Files per command line for the peers' ingest (reprepro and aptly take many at once). */
const CHUNK = 500;
const APT_FETCH = 100;

const root = join(import.meta.dirname, "..");
const keys = join(root, "test", "fixtures", "keys");
const secretKey = join(keys, "trusted.sec.asc");
const publicKey = join(keys, "trusted.pub.asc");
/** Kept between runs: synthesizing is not what is measured. */
const debDir = join(import.meta.dirname, ".work", `debs-${PACKAGES + 2}`);
const runDir = join(import.meta.dirname, ".work", `peers-${PACKAGES}`);
const logFile = join(import.meta.dirname, ".work", `peers-${PACKAGES}.log`);
const token = randomBytes(24).toString("hex");
const startedAt = performance.now();

// --- processes ----------------------------------------------------------------------------------

/** Every process this script starts and has not yet seen exit, so a signal can stop them. */
const live = new Set<ChildProcess>();

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run a command to completion; throw with its output when it fails. */
function run(cmd: string, args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  return new Promise<Ran>((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: options.cwd ?? runDir,
      env: { ...process.env, ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    live.add(child);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    child.on("error", (cause) => {
      live.delete(child);
      reject(new Error(`cannot run ${cmd}`, { cause }));
    });
    child.on("close", (code) => {
      live.delete(child);
      if (code === 0) resolve({ code, stdout, stderr });
      else
        reject(
          new Error(
            `${cmd} ${args.slice(0, 6).join(" ")}${args.length > 6 ? " …" : ""} exited ${code}:\n${stderr.slice(-3000)}${stdout.slice(-1000)}`,
          ),
        );
    });
  });
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return (performance.now() - start) / 1000;
}

function chunks<T>(xs: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size));
  return out;
}

/** Install the peers from Debian's packages when a command is missing; fail clearly when that cannot be done. */
function requirePeers(): void {
  const needed: Record<string, string> = {
    reprepro: "reprepro",
    aptly: "aptly",
    nginx: "nginx",
    "apt-ftparchive": "apt-utils",
    "dpkg-scanpackages": "dpkg-dev",
    gpg: "gnupg",
    "apt-get": "apt",
    gzip: "gzip",
  };
  const has = (c: string) => spawnSync("sh", ["-c", `command -v ${c}`]).status === 0;
  const missing = [...new Set(Object.keys(needed).filter((c) => !has(c)))];
  if (missing.length === 0) return;
  const pkgs = [...new Set(missing.map((c) => needed[c] ?? c))];
  process.stderr.write(`installing ${pkgs.join(" ")} from Debian's packages\n`);
  const apt = (args: string[]) =>
    spawnSync("apt-get", args, { stdio: "inherit", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
  let ok = apt(["install", "-y", ...pkgs]).status === 0;
  if (!ok) ok = apt(["update"]).status === 0 && apt(["install", "-y", ...pkgs]).status === 0;
  const still = missing.filter((c) => !has(c));
  if (!ok || still.length > 0) {
    throw new Error(
      `the benchmark needs ${still.join(", ") || missing.join(", ")}: run \`apt-get install -y ${pkgs.join(" ")}\` as root`,
    );
  }
}

// --- signing --------------------------------------------------------------------------------------

interface Gpg {
  home: string;
  fingerprint: string;
  /** Binary public keyring, for apt's Signed-By. */
  keyring: string;
}

/** A throwaway GNUPGHOME holding only the test-only key. */
async function gpgHome(): Promise<Gpg> {
  const home = join(runDir, "gnupg");
  mkdirSync(home, { recursive: true, mode: 0o700 });
  const env = { GNUPGHOME: home };
  await run("gpg", ["--batch", "--import", secretKey], { env });
  const listed = await run("gpg", ["--batch", "--with-colons", "--list-secret-keys"], { env });
  const fingerprint = /^fpr:+([0-9A-F]{40}):/m.exec(listed.stdout)?.[1];
  if (fingerprint === undefined) throw new Error("no fingerprint for the imported test key");
  const keyring = join(runDir, "trusted.gpg");
  writeFileSync(keyring, runBinary("gpg", ["--batch", "--export", fingerprint], env));
  return { home, fingerprint, keyring };
}

function runBinary(cmd: string, args: string[], env: NodeJS.ProcessEnv): Buffer {
  const r = spawnSync(cmd, args, { env: { ...process.env, ...env } });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed: ${r.stderr}`);
  return r.stdout;
}

/** InRelease and Release.gpg for `dists/<dist>/Release`, as apt-secure(8) expects them. */
async function signRelease(gpg: Gpg, distDir: string): Promise<void> {
  const env = { GNUPGHOME: gpg.home };
  const base = ["--batch", "--yes", "--pinentry-mode", "loopback", "-u", gpg.fingerprint, "--digest-algo", "SHA256"];
  await run("gpg", [...base, "--clearsign", "-o", join(distDir, "InRelease"), join(distDir, "Release")], { env });
  await run("gpg", [...base, "-abs", "-o", join(distDir, "Release.gpg"), join(distDir, "Release")], { env });
}

// --- the peers ------------------------------------------------------------------------------------

/** Seconds per step; absent where a tool has no such step. */
interface Times {
  ingest: number;
  full: number;
  fullWarm?: number;
  incremental: number;
  /** Armor: POST …/generate alone, after adding one package. */
  generate?: number;
  /** Armor: the `pkgs add` and the `publish` of the incremental step. */
  incrementalAdd?: number;
  incrementalPublish?: number;
}

interface Input {
  debs: string[];
  extra: string;
  extra2: string;
  gpg: Gpg;
  dir: string;
}

async function reprepro({ debs, extra, gpg, dir }: Input): Promise<Times> {
  mkdirSync(join(dir, "conf"), { recursive: true });
  writeFileSync(
    join(dir, "conf", "distributions"),
    [
      "Origin: bench",
      "Label: bench",
      "Codename: stable",
      "Suite: stable",
      "Architectures: amd64",
      "Components: main",
      `SignWith: ${gpg.fingerprint}`,
      "",
    ].join("\n"),
  );
  const rr = (args: string[]) => run("reprepro", ["--silent", "-b", dir, ...args], { env: { GNUPGHOME: gpg.home } });
  const ingest = await timed(async () => {
    for (const c of chunks(debs, CHUNK)) await rr(["--export=never", "includedeb", "stable", ...c]);
  });
  const full = await timed(() => rr(["export", "stable"]));
  const incremental = await timed(() => rr(["includedeb", "stable", extra]));
  return { ingest, full, incremental };
}

async function aptly({ debs, extra, gpg, dir }: Input): Promise<Times> {
  const config = join(dir, "aptly.conf");
  mkdirSync(dir, { recursive: true });
  // Contents indexes off: Armor, reprepro and apt-ftparchive packages do not make them either.
  writeFileSync(
    config,
    JSON.stringify({ rootDir: dir, gpgProvider: "gpg", skipContentsPublishing: true, architectures: ["amd64"] }),
  );
  const a = (args: string[]) => run("aptly", [`-config=${config}`, ...args], { env: { GNUPGHOME: gpg.home } });
  const sign = ["-batch", `-gpg-key=${gpg.fingerprint}`];
  await a(["repo", "create", "-distribution=stable", "-component=main", "bench"]);
  const ingest = await timed(async () => {
    for (const c of chunks(debs, CHUNK)) await a(["repo", "add", "bench", ...c]);
  });
  const full = await timed(() => a(["publish", "repo", ...sign, "-architectures=amd64", "bench"]));
  const incremental = await timed(async () => {
    await a(["repo", "add", "bench", extra]);
    await a(["publish", "update", ...sign, "stable"]);
  });
  return { ingest, full, incremental };
}

/** A flat pool the way dpkg-scanpackages and apt-ftparchive take one: copy the files in. */
async function copyIntoPool(files: readonly string[], pool: string): Promise<void> {
  mkdirSync(pool, { recursive: true });
  for (const f of files) copyFileSync(f, join(pool, basename(f)));
}

async function gzipKeep(file: string): Promise<void> {
  await run("gzip", ["-9nkf", file]);
}

async function aptFtparchive({ debs, extra, gpg, dir }: Input): Promise<Times> {
  const pool = join(dir, "pool", "main");
  const dist = join(dir, "dists", "stable");
  const binary = join(dist, "main", "binary-amd64");
  mkdirSync(binary, { recursive: true });
  const db = join(dir, "packages.db");
  const publish = async () => {
    const packages = await run("apt-ftparchive", ["--db", db, "packages", "pool/main"], { cwd: dir });
    writeFileSync(join(binary, "Packages"), packages.stdout);
    await gzipKeep(join(binary, "Packages"));
    const release = await run(
      "apt-ftparchive",
      [
        "-o",
        "APT::FTPArchive::Release::Suite=stable",
        "-o",
        "APT::FTPArchive::Release::Codename=stable",
        "-o",
        "APT::FTPArchive::Release::Architectures=amd64",
        "-o",
        "APT::FTPArchive::Release::Components=main",
        "release",
        "dists/stable",
      ],
      { cwd: dir },
    );
    // Written after the scan, so that Release does not list itself.
    writeFileSync(join(dist, "Release.new"), release.stdout);
    renameSync(join(dist, "Release.new"), join(dist, "Release"));
    await signRelease(gpg, dist);
  };
  const ingest = await timed(() => copyIntoPool(debs, pool));
  const full = await timed(publish); // cold: the cache database is empty
  for (const f of ["Packages", "Packages.gz"]) rmSync(join(binary, f), { force: true });
  for (const f of ["Release", "InRelease", "Release.gpg"]) rmSync(join(dist, f), { force: true });
  const fullWarm = await timed(publish);
  const incremental = await timed(async () => {
    await copyIntoPool([extra], pool);
    await publish();
  });
  return { ingest, full, fullWarm, incremental };
}

async function dpkgScanpackages({ debs, extra, dir }: Input): Promise<Times> {
  const pool = join(dir, "pool", "main");
  const binary = join(dir, "dists", "stable", "main", "binary-amd64");
  mkdirSync(binary, { recursive: true });
  // Scan + gzip only, no Release and no signature: all dpkg-scanpackages makes.
  const publish = async () => {
    const packages = await run("dpkg-scanpackages", ["-m", "pool/main"], { cwd: dir });
    writeFileSync(join(binary, "Packages"), packages.stdout);
    await gzipKeep(join(binary, "Packages"));
  };
  const ingest = await timed(() => copyIntoPool(debs, pool));
  const full = await timed(publish);
  const incremental = await timed(async () => {
    await copyIntoPool([extra], pool);
    await publish();
  });
  return { ingest, full, incremental };
}

// --- Armor ----------------------------------------------------------------------------------------

interface ArmorStack {
  server: Server;
  inspector: Inspector;
  procs: ReturnType<typeof workerdProcesses>;
  home: string;
}

interface ArmorRun extends Times {
  memory: { isolate: IsolateUsage; usage: ProcessUsage[] };
  repo: string;
}

/** The one-file CLI `npm run build:cli` writes (what a CI pipeline installs). */
const cliBundle = join(root, "dist", "armor.mjs");

function armor(stack: ArmorStack, args: string[], cwd = runDir): Promise<Ran> {
  return run(process.execPath, [cliBundle, ...args], {
    cwd,
    env: {
      ARMOR_ENDPOINT: stack.server.base,
      ARMOR_TOKEN: token,
      HOME: stack.home,
      XDG_CONFIG_HOME: join(stack.home, "config"),
    },
  });
}

async function armorRun(stack: ArmorStack, { debs, extra, extra2 }: Input, index: number): Promise<ArmorRun> {
  const repo = `bench/peers-${index}`;
  const r = ["--repository", repo];
  await armor(stack, ["repo", "create", repo]);
  await armor(stack, ["key", "add", ...r, publicKey]);
  // Relative names from the package directory: 20,000 absolute paths would crowd the command line.
  const add = (files: string[]) =>
    armor(
      stack,
      ["pkgs", "add", ...r, "--dist", "stable", "--concurrency", String(CONCURRENCY), ...files.map((f) => basename(f))],
      debDir,
    );
  const publish = () => armor(stack, ["publish", ...r, "--dist", "stable", "--key-file", secretKey]);
  const ingest = values.profile ? await profiledIngest(stack, () => add(debs)) : await timed(() => add(debs));
  const full = await measured(stack.procs, stack.inspector, publish);
  if (full.value instanceof Error) throw full.value;
  const incrementalAdd = await timed(() => add([extra]));
  const incrementalPublish = await timed(publish);
  await add([extra2]);
  const generate = await timed(async () => {
    const res = await fetch(`${stack.server.base}/api/v1/repositories/${repo}/dists/stable/generate`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}` },
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`generate: ${res.status} ${text.slice(0, 2000)}`);
  });
  return {
    ingest,
    full: full.seconds,
    incremental: incrementalAdd + incrementalPublish,
    incrementalAdd,
    incrementalPublish,
    generate,
    memory: { isolate: full.isolate, usage: full.usage },
    repo,
  };
}

/** Time `ingest` under the isolate's CPU profiler; print where the isolate and each workerd spent CPU. */
async function profiledIngest(stack: ArmorStack, ingest: () => Promise<unknown>): Promise<number> {
  const before = stack.procs.map((p) => cpuSeconds(p.pid));
  const worker = stack.procs.find((p) => p.role === "worker");
  const perfData = join(import.meta.dirname, ".work", `ingest-${PACKAGES}.perf.data`);
  const recorder =
    values.perf && worker !== undefined
      ? spawn("perf", ["record", "-e", "cpu-clock", "-F", "999", "-g", "-p", String(worker.pid), "-o", perfData], {
          stdio: "ignore",
        })
      : null;
  const start = performance.now();
  const { profile } = await stack.inspector.profiled(ingest);
  const seconds = (performance.now() - start) / 1000;
  if (recorder !== null) {
    const done = new Promise((resolve) => recorder.once("exit", resolve));
    recorder.kill("SIGINT");
    await done;
    process.stderr.write(`  perf: ${perfData} (perf report -i ${perfData} --no-children --sort dso,sym)\n`);
  }
  const cpu = stack.procs.map((p, i) => `${p.role} ${(cpuSeconds(p.pid) - (before[i] ?? 0)).toFixed(2)} s`);
  process.stderr.write(`  ingest ${seconds.toFixed(2)} s; workerd CPU: ${cpu.join(", ")}\n`);
  for (const line of topFunctions(profile, 30)) process.stderr.write(`    ${line}\n`);
  const saved = join(import.meta.dirname, ".work", `ingest-${PACKAGES}.cpuprofile`);
  writeFileSync(saved, JSON.stringify(profile));
  process.stderr.write(`  profile: ${saved} (DevTools' Performance panel opens it)\n`);
  return seconds;
}

// --- apt against the Worker and nginx -------------------------------------------------------------

interface AptTimes {
  update: number;
  download: number;
}

async function startNginx(docroot: string): Promise<{ child: ChildProcess; base: string }> {
  const prefix = join(runDir, "nginx");
  mkdirSync(join(prefix, "tmp"), { recursive: true });
  const port = await freePort();
  const t = join(prefix, "tmp");
  // One process, in the foreground: nothing to daemonize, nothing left behind.
  const conf = `daemon off;
master_process off;
worker_processes 1;
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log;
events { worker_connections 256; }
http {
  access_log off;
  default_type application/octet-stream;
  sendfile on;
  client_body_temp_path ${t}/body; proxy_temp_path ${t}/proxy; fastcgi_temp_path ${t}/fastcgi;
  uwsgi_temp_path ${t}/uwsgi; scgi_temp_path ${t}/scgi;
  server { listen 127.0.0.1:${port}; root ${docroot}; }
}
`;
  writeFileSync(join(prefix, "nginx.conf"), conf);
  const child = spawn("nginx", ["-p", prefix, "-c", join(prefix, "nginx.conf")], { stdio: "ignore" });
  live.add(child);
  child.on("exit", () => live.delete(child));
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(`${base}/dists/stable/InRelease`)).ok) return { child, base };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill("SIGKILL");
  throw new Error(`nginx did not come up; see ${prefix}/error.log`);
}

/** `apt-get update`, then `apt-get download` of `names`, with a fresh isolated apt. */
async function aptTimes(uri: string, keyring: string, names: string[]): Promise<AptTimes> {
  const apt = aptRoot({ parent: runDir });
  try {
    apt.addSource("bench", { uris: [uri], suites: ["stable"], components: ["main"], signedBy: keyring });
    const check = (what: string, r: { code: number; output: string }) => {
      if (r.code !== 0 || /^[WE]: /m.test(r.output)) throw new Error(`apt-get ${what} from ${uri}:\n${r.output}`);
    };
    let start = performance.now();
    check("update", await apt.get(["update"]));
    const update = (performance.now() - start) / 1000;
    const out = join(apt.dir, "download");
    mkdirSync(out);
    start = performance.now();
    check("download", await apt.get(["download", ...names], { cwd: out }));
    return { update, download: (performance.now() - start) / 1000 };
  } finally {
    apt.cleanup();
  }
}

// --- the run --------------------------------------------------------------------------------------

const ALL_PEERS = ["reprepro", "aptly", "apt-ftparchive", "dpkg-scanpackages"] as const;
type Peer = (typeof ALL_PEERS)[number];
type Tool = "armor" | Peer;
const PEERS: readonly Peer[] = values.peers.split(",").map((name) => {
  const peer = ALL_PEERS.find((p) => p === name.trim());
  if (peer === undefined)
    throw new Error(`--peers takes a comma-separated list of ${ALL_PEERS.join(", ")}; not "${name}"`);
  return peer;
});
if (!PEERS.includes("reprepro")) throw new Error("--peers must include reprepro: nginx serves its tree in step 4");
const RUNNERS: Record<Peer, (input: Input) => Promise<Times>> = {
  reprepro,
  aptly,
  "apt-ftparchive": aptFtparchive,
  "dpkg-scanpackages": dpkgScanpackages,
};

async function main(): Promise<void> {
  requirePeers();
  rmSync(runDir, { recursive: true, force: true });
  mkdirSync(runDir, { recursive: true });
  process.stderr.write(`synthesizing ${PACKAGES + 2} packages into ${debDir}\n`);
  const all = synthesizeDebs(debDir, PACKAGES + 2);
  const debs = all.slice(0, PACKAGES);
  const [extra, extra2] = [all[PACKAGES], all[PACKAGES + 1]];
  if (extra === undefined || extra2 === undefined) throw new Error("the Packages index has too few stanzas");
  const names = realControls(Math.min(APT_FETCH, PACKAGES)).map((c) => /^Package: (.+)$/m.exec(c)?.[1] ?? "?");
  const gpg = await gpgHome();

  process.stderr.write("bundling the Worker and applying D1 migrations\n");
  const bundleDir = join(runDir, "bundle");
  const persistDir = join(runDir, "state");
  wrangler(["deploy", "--dry-run", "--outdir", bundleDir]);
  const cli = spawnSync("npm", ["run", "-s", "build:cli"], { cwd: root, stdio: "inherit" });
  if (cli.status !== 0) throw new Error("npm run build:cli failed");
  wrangler(["d1", "migrations", "apply", "DB", "--local", "--persist-to", persistDir]);
  const server = await startWorker({ bundleDir, persistDir, logFile, token });
  const stop = async () => {
    await stopWorker(server.child);
    for (const child of live) child.kill("SIGKILL");
  };
  const onSignal = () => void stop().finally(() => process.exit(130));
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  let inspector: Inspector | undefined;
  try {
    inspector = await Inspector.open(server.inspectorPort);
    const home = join(runDir, "armor-home");
    mkdirSync(home, { recursive: true });
    const stack: ArmorStack = { server, inspector, procs: workerdProcesses(server), home };

    const times: Record<Tool, Times[]> = {
      armor: [],
      reprepro: [],
      aptly: [],
      "apt-ftparchive": [],
      "dpkg-scanpackages": [],
    };
    const armorRuns: ArmorRun[] = [];
    let lastReprepro = "";
    for (let i = 1; i <= RUNS; i++) {
      for (const peer of PEERS) {
        const dir = join(runDir, `${peer}-${i}`);
        process.stderr.write(`run ${i}/${RUNS}: ${peer}\n`);
        const t = await RUNNERS[peer]({ debs, extra, extra2, gpg, dir });
        times[peer].push(t);
        process.stderr.write(`  ${stepLine(t)}\n`);
        if (peer === "reprepro") lastReprepro = dir;
        // Keep only the last run's reprepro tree (nginx serves it); the others only take disk.
        else rmSync(dir, { recursive: true, force: true });
      }
      process.stderr.write(`run ${i}/${RUNS}: armor\n`);
      const a = await armorRun(stack, { debs, extra, extra2, gpg, dir: runDir }, i);
      armorRuns.push(a);
      times.armor.push(a);
      process.stderr.write(`  ${stepLine(a)}\n`);
    }

    process.stderr.write(`apt-get update + download of ${APT_FETCH} packages: the Worker, then nginx\n`);
    const lastArmor = armorRuns.at(-1);
    if (lastArmor === undefined) throw new Error("no Armor run");
    const armorKeyring = join(runDir, "armor-keyring.gpg");
    const kr = await fetch(`${server.base}/${lastArmor.repo}/archive-keyring.gpg`);
    if (!kr.ok) throw new Error(`archive-keyring.gpg: ${kr.status}`);
    writeFileSync(armorKeyring, new Uint8Array(await kr.arrayBuffer()));
    const nginx = await startNginx(lastReprepro);
    const apt: { armor: AptTimes[]; nginx: AptTimes[] } = { armor: [], nginx: [] };
    try {
      for (let i = 0; i < RUNS; i++) {
        apt.armor.push(await aptTimes(`${server.base}/${lastArmor.repo}/`, armorKeyring, names));
        apt.nginx.push(await aptTimes(`${nginx.base}/`, gpg.keyring, names));
      }
    } finally {
      nginx.child.kill("SIGTERM");
    }
    report(times, armorRuns, apt);
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    inspector?.close();
    await stop();
    rmSync(runDir, { recursive: true, force: true });
  }
}

/** One run's steps on one line, so a long benchmark shows its numbers as it goes. */
function stepLine(t: Times): string {
  return Object.entries(t)
    .filter((e): e is [string, number] => typeof e[1] === "number")
    .map(([k, v]) => `${k} ${v.toFixed(2)} s`)
    .join(", ");
}

// --- the report -----------------------------------------------------------------------------------

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[m] ?? Number.NaN) : ((s[m - 1] ?? Number.NaN) + (s[m] ?? Number.NaN)) / 2;
}

function report(
  times: Record<Tool, Times[]>,
  armorRuns: ArmorRun[],
  apt: { armor: AptTimes[]; nginx: AptTimes[] },
): void {
  const tools: Tool[] = ["armor", ...PEERS];
  const step = (tool: Tool, key: keyof Times): number | undefined => {
    const xs = times[tool].map((t) => t[key]).filter((x): x is number => x !== undefined);
    return xs.length === 0 ? undefined : median(xs);
  };
  const steps: { key: keyof Times; label: string }[] = [
    { key: "ingest", label: `1. ingest ${PACKAGES}` },
    { key: "full", label: "2. full publish" },
    { key: "fullWarm", label: "2. full publish, warm cache" },
    { key: "incremental", label: "3. incremental publish (+1)" },
  ];
  const s = (x: number | undefined) => (x === undefined ? "–" : x.toFixed(2));
  const mib = (b: number) => (b / 1048576).toFixed(1);

  console.log(
    `Armor against its peers: ${PACKAGES} packages from real Debian control data, median of ${RUNS} runs; ` +
      `${cpus()[0]?.model ?? "?"} (${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB), ` +
      `Node ${process.version}, Armor under wrangler dev (local workerd), armor pkgs add --concurrency ${CONCURRENCY}\n`,
  );
  console.log("Seconds (wall clock):\n");
  console.log(`| step | ${tools.join(" | ")} |`);
  console.log(`|---|${tools.map(() => "---:").join("|")}|`);
  for (const { key, label } of steps) console.log(`| ${label} | ${tools.map((t) => s(step(t, key))).join(" | ")} |`);
  console.log(
    `| 3a. Armor: pkgs add of the one package | ${s(step("armor", "incrementalAdd"))} |${" |".repeat(PEERS.length)}\n` +
      `| 3b. Armor: publish after it | ${s(step("armor", "incrementalPublish"))} |${" |".repeat(PEERS.length)}\n` +
      `| 3c. Armor: server-side generate (+1, POST …/generate) | ${s(step("armor", "generate"))} |${" |".repeat(PEERS.length)}`,
  );

  console.log("\nArmor ÷ peer (below 1: Armor is faster):\n");
  console.log(`| step | ${PEERS.join(" | ")} |`);
  console.log(`|---|${PEERS.map(() => "---:").join("|")}|`);
  const ratio = (a: number | undefined, b: number | undefined) =>
    a === undefined || b === undefined ? "–" : (a / b).toFixed(2);
  for (const { key, label } of steps) {
    if (key === "fullWarm") {
      console.log(
        `| 2. full publish ÷ peer's warm-cache full publish | ${PEERS.map((p) => ratio(step("armor", "full"), step(p, "fullWarm"))).join(" | ")} |`,
      );
      continue;
    }
    console.log(`| ${label} | ${PEERS.map((p) => ratio(step("armor", key), step(p, key))).join(" | ")} |`);
  }
  console.log(
    `| 3c. server-side generate ÷ peer's incremental publish | ${PEERS.map((p) => ratio(step("armor", "generate"), step(p, "incremental"))).join(" | ")} |`,
  );

  const aptMed = (xs: AptTimes[], k: keyof AptTimes) => median(xs.map((x) => x[k]));
  console.log(
    `\napt (isolated config), ${PACKAGES + 1} packages in the dist; Worker vs nginx serving reprepro's tree:\n`,
  );
  console.log("| step | Armor (wrangler dev) | nginx (disk) | Armor ÷ nginx |");
  console.log("|---|---:|---:|---:|");
  for (const [k, label] of [
    ["update", "apt-get update"],
    ["download", `apt-get download of ${APT_FETCH} packages`],
  ] as const) {
    const a = aptMed(apt.armor, k);
    const n = aptMed(apt.nginx, k);
    console.log(`| ${label} | ${a.toFixed(2)} | ${n.toFixed(2)} | ${(a / n).toFixed(2)} |`);
  }

  console.log("\nworkerd memory during Armor's full publish (largest over the runs):\n");
  const peakIsolate = Math.max(...armorRuns.map((r) => r.memory.isolate.peakTotal));
  const baseIsolate = Math.max(
    ...armorRuns.map((r) => r.memory.isolate.baseline.usedSize + r.memory.isolate.baseline.backingStorageSize),
  );
  const worker = armorRuns.flatMap((r) => r.memory.usage.filter((u) => u.process.role === "worker"));
  const peakRss = Math.max(...worker.map((u) => u.hwm));
  const rise = Math.max(...worker.map((u) => u.peak - u.baseline));
  console.log(
    "| isolate peak (JS heap + ArrayBuffers) MiB | isolate before MiB | worker workerd VmHWM MiB | RSS rise MiB |",
  );
  console.log("|---:|---:|---:|---:|");
  console.log(
    `| ${mib(peakIsolate)} | ${mib(baseIsolate)} | ${(peakRss / 1024).toFixed(1)} | ${(rise / 1024).toFixed(1)} |`,
  );
  console.log(`\nwhole benchmark: ${((performance.now() - startedAt) / 1000).toFixed(0)} s`);

  const json = {
    packages: PACKAGES,
    runs: RUNS,
    concurrency: CONCURRENCY,
    machine: { cpu: cpus()[0]?.model, cores: cpus().length, memoryBytes: totalmem(), node: process.version },
    medians: Object.fromEntries(
      tools.map((t) => [
        t,
        Object.fromEntries(
          (
            ["ingest", "full", "fullWarm", "incremental", "incrementalAdd", "incrementalPublish", "generate"] as const
          ).map((k) => [k, step(t, k) ?? null]),
        ),
      ]),
    ),
    runsRaw: times,
    apt: {
      armor: { update: aptMed(apt.armor, "update"), download: aptMed(apt.armor, "download"), raw: apt.armor },
      nginx: { update: aptMed(apt.nginx, "update"), download: aptMed(apt.nginx, "download"), raw: apt.nginx },
    },
    memory: { isolatePeakBytes: peakIsolate, workerVmHwmKiB: peakRss, workerRssRiseKiB: rise },
  };
  writeFileSync(join(import.meta.dirname, "results.json"), `${JSON.stringify(json, null, 2)}\n`);
}

function positiveInt(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`${flag} must be a positive integer, not ${text}`);
  return n;
}

await main();
