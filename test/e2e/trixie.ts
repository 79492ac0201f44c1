/**
 * A Debian trixie root for the end-to-end tests that need apt 3 (the machine's apt is bookworm's
 * 2.6): snapshots (`apt update --snapshot ID`, sources.list(5) `Snapshot:`) arrived in apt 2.7+.
 *
 * Built once per machine with `debootstrap --variant=minbase trixie` from deb.debian.org (about a
 * minute) and kept in test/fixtures/.trixie (gitignored). It is built in a directory of its own and
 * renamed into place only once apt 3 runs inside it, with a marker written last; a root without the
 * marker, or whose apt no longer runs, is removed and built again, so a run interrupted halfway
 * never leaves a root that later runs trust.
 *
 * Tests run apt in it with chroot(8) (test/e2e/apt.ts, `chroot`), which needs root, as CI has.
 * Nothing is mounted into the root: `apt-get update` and `apt-cache policy` need neither /proc nor
 * /dev beyond the device nodes debootstrap made, and the chroot shares the network namespace, so
 * 127.0.0.1 is the machine's.
 */
import { spawn, spawnSync } from "node:child_process";
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { join, resolve } from "node:path";

/** Where the root lives: test/fixtures/.trixie. */
export const TRIXIE_ROOT = resolve(new URL("../fixtures/.trixie", import.meta.url).pathname);
const FIXTURES = resolve(TRIXIE_ROOT, "..");
/** The PATH for chroot(8) here and for the commands it starts inside. */
export const PATH = "/usr/sbin:/usr/bin:/sbin:/bin";
const MIRROR = "http://deb.debian.org/debian";
const KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg";
/** Written last into a root whose apt 3 was seen to run: what makes a root trusted by later runs. */
const MARKER = ".armor-trixie-root";
/** A build in progress or abandoned: `.trixie-build-{pid}`, beside the root so that rename(2) is atomic. */
const BUILD_PREFIX = ".trixie-build-";

/** The apt version a complete root runs, e.g. "3.0.4"; throws if the root is not complete. */
function checkRoot(dir: string): string {
  if (!existsSync(join(dir, MARKER))) throw new Error(`${dir} has no ${MARKER}: its build did not finish`);
  const ran = spawnSync("chroot", [dir, "apt-get", "--version"], { encoding: "utf8", env: { PATH, LC_ALL: "C" } });
  const version = /^apt (\d+\.\d+\S*) /.exec(ran.stdout ?? "")?.[1];
  if (ran.status !== 0 || version === undefined) {
    throw new Error(`apt-get --version in ${dir} failed (${ran.status ?? ran.error}):\n${ran.stdout}${ran.stderr}`);
  }
  if (!/^(?:[3-9]|\d{2,})\./.test(version)) throw new Error(`${dir} runs apt ${version}, not apt 3 or later`);
  return version;
}

/**
 * The path of a complete trixie root, building it first if there is none (or only a broken one).
 * Throws, saying what to install or what failed, rather than letting a test skip.
 */
export async function trixieRoot(): Promise<{ dir: string; apt: string; built: boolean; seconds: number }> {
  if (process.getuid?.() !== 0) {
    throw new Error(
      "the apt 3 tests run apt in a Debian trixie root with chroot(8) and debootstrap(8): run them as root (CI does)",
    );
  }
  for (const tool of ["debootstrap", "chroot"]) {
    if (spawnSync("sh", ["-c", `command -v ${tool}`], { env: { PATH } }).status !== 0) {
      throw new Error(
        `the apt 3 tests need ${tool}: run \`apt-get install -y debootstrap debian-archive-keyring\` (or \`bash .ci/run\`, which installs them)`,
      );
    }
  }
  const started = Date.now();
  if (existsSync(TRIXIE_ROOT)) {
    try {
      return { dir: TRIXIE_ROOT, apt: checkRoot(TRIXIE_ROOT), built: false, seconds: 0 };
    } catch (cause) {
      console.warn(`rebuilding the trixie root: ${(cause as Error).message}`);
      removeRoot(TRIXIE_ROOT);
    }
  }
  removeAbandonedBuilds();
  if (!existsSync(KEYRING)) {
    throw new Error(
      `debootstrap needs Debian's archive keyring at ${KEYRING}: run \`apt-get install -y debian-archive-keyring\``,
    );
  }

  const build = join(FIXTURES, `${BUILD_PREFIX}${process.pid}`);
  removeRoot(build);
  const log = `${build}.log`;
  // --keyring: fail if the Release cannot be verified, rather than debootstrap's warning and go on.
  const args = ["--variant=minbase", `--keyring=${KEYRING}`, "trixie", build, MIRROR];
  const code = await new Promise<number | string>((done) => {
    const out = openSync(log, "w");
    const child = spawn("debootstrap", args, {
      env: { ...process.env, PATH, LC_ALL: "C" },
      stdio: ["ignore", out, out],
    });
    closeSync(out);
    child.on("error", (error) => done(error.message));
    child.on("close", (status, signal) => done(status ?? `signal ${signal}`));
  });
  if (code !== 0) {
    const tail = readFileSync(log, "utf8").split("\n").slice(-25).join("\n");
    removeRoot(build); // the log stays, for the message below
    throw new Error(`debootstrap ${args.join(" ")} failed (${code}); the end of ${log}:\n${tail}`);
  }
  writeFileSync(join(build, MARKER), `debootstrap ${args.join(" ")}\nbuilt ${new Date().toISOString()}\n`);
  let apt: string;
  try {
    apt = checkRoot(build);
  } catch (cause) {
    removeRoot(build);
    throw new Error(`debootstrap built a trixie root, but apt 3 does not run in it (the log: ${log})`, { cause });
  }
  rmSync(log, { force: true });
  try {
    renameSync(build, TRIXIE_ROOT);
  } catch (cause) {
    // Another run finished its root first: use that one.
    removeRoot(build);
    if (!existsSync(TRIXIE_ROOT)) throw new Error(`could not move ${build} to ${TRIXIE_ROOT}`, { cause });
    return { dir: TRIXIE_ROOT, apt: checkRoot(TRIXIE_ROOT), built: false, seconds: (Date.now() - started) / 1000 };
  }
  return { dir: TRIXIE_ROOT, apt, built: true, seconds: (Date.now() - started) / 1000 };
}

/** Builds left by runs that are gone (killed mid-debootstrap): their pid no longer runs. */
function removeAbandonedBuilds(): void {
  if (!existsSync(FIXTURES)) mkdirSync(FIXTURES, { recursive: true });
  for (const name of readdirSync(FIXTURES)) {
    if (!name.startsWith(BUILD_PREFIX)) continue;
    const pid = Number(/^\.trixie-build-(\d+)/.exec(name)?.[1]);
    if (Number.isInteger(pid) && pid !== process.pid && alive(pid)) continue;
    if (name.endsWith(".log")) rmSync(join(FIXTURES, name), { force: true });
    else removeRoot(join(FIXTURES, name));
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Remove a root, or a half-built one. debootstrap mounts /proc and /sys into its target (and may
 * bind-mount the host's /dev entries) and unmounts them only on a clean exit; deleting through
 * such a mount would reach the machine's own files. So every mount below `dir` is unmounted first,
 * and `rm --one-file-system` refuses to cross any that remains.
 */
function removeRoot(dir: string): void {
  if (!existsSync(dir)) return;
  for (const mount of mountsBelow(dir)) {
    const ran = spawnSync("umount", ["--lazy", mount], { encoding: "utf8" });
    if (ran.status !== 0)
      throw new Error(`cannot unmount ${mount} (left by an interrupted debootstrap): ${ran.stderr}`);
  }
  const left = mountsBelow(dir);
  if (left.length > 0) throw new Error(`not removing ${dir}: still mounted below it: ${left.join(", ")}`);
  const ran = spawnSync("rm", ["-rf", "--one-file-system", "--", dir], { encoding: "utf8" });
  if (ran.status !== 0) throw new Error(`rm -rf ${dir} failed: ${ran.stderr}`);
}

/** Mount points at or below `dir`, deepest first (proc(5) mountinfo; spaces appear as \040). */
function mountsBelow(dir: string): string[] {
  const info = readFileSync("/proc/self/mountinfo", "utf8");
  return info
    .split("\n")
    .map((line) =>
      line.split(" ")[4]?.replace(/\\(\d{3})/g, (_, oct: string) => String.fromCharCode(Number.parseInt(oct, 8))),
    )
    .filter((point): point is string => point !== undefined && (point === dir || point.startsWith(`${dir}/`)))
    .sort((a, b) => b.length - a.length);
}
