/**
 * apt 3's snapshots against Armor, end to end: the Release files Armor serves carry
 * `Snapshots: {root}/@SNAPSHOTID@/`, and `{root}/{YYYYMMDDTHHMMSSZ}/…` serves the release that was
 * active at that instant (DESIGN.md §5). apt 2.7+ reads that field from the Release it already holds
 * and, given `--snapshot ID` (apt(8), apt-get(8); `APT::Snapshot`), fetches the source from the
 * template with the ID in place (sources.list(5) `Snapshot:`, apt.conf(5) `Acquire::Snapshots::URI`).
 *
 * The machine's apt is bookworm's 2.6, which has no snapshots, so Debian trixie's apt 3 runs in a
 * chroot (test/e2e/trixie.ts builds the root once per machine) with the same isolated configuration
 * as the other end-to-end tests: its only trust is the keyring the repository publishes
 * (`Signed-By:`, verified by trixie's sqv). Never `trusted=yes`.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, type ExpectStatic, inject, it } from "vitest";
import { armor, writeDeb } from "../cli/armor.ts";
import { type LocalStack, startLocalStack } from "../helpers/local-stack.ts";
import { type AptRoot, type AptRun, aptRoot, problems, requireAptTools, type Source, sha256File } from "./apt.ts";
import { trixieRoot } from "./trixie.ts";

let stack: LocalStack;
let trixie: string;
let work: string;
let secretKeyFile: string;
let publicKeyFile: string;

beforeAll(async () => {
  requireAptTools();
  const root = await trixieRoot();
  trixie = root.dir;
  console.log(
    root.built
      ? `built the Debian trixie root (apt ${root.apt}) in ${root.seconds.toFixed(0)} s at ${root.dir}`
      : `using the Debian trixie root at ${root.dir} (apt ${root.apt})`,
  );
  stack = await startLocalStack();
  // Inside the root, so that apt in the chroot can read the keyrings and sources written here.
  work = mkdtempSync(join(trixie, "tmp", "armor-e2e-"));
  secretKeyFile = join(work, "signing.sec.asc");
  publicKeyFile = join(work, "signing.pub.asc");
  writeFileSync(secretKeyFile, inject("keys").trusted.secret);
  writeFileSync(publicKeyFile, inject("keys").trusted.public);
}, 600_000); // debootstrap, the first time on a machine: about a minute, more on a slow mirror.

afterAll(async () => {
  await stack?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

async function cli(args: string[]): Promise<string> {
  const ran = await armor(args, {
    ARMOR_ENDPOINT: stack.endpoint,
    ARMOR_TOKEN: stack.token,
    HOME: work,
    XDG_CONFIG_HOME: join(work, "config"),
  });
  if (ran.code !== 0) throw new Error(`armor ${args.join(" ")} exited ${ran.code}:\n${ran.stderr}${ran.stdout}`);
  return ran.stdout;
}

/** Publish `tool` at `version` to `stable` of `repo`, signed with the test key. */
async function publishTool(repo: string, version: string): Promise<string> {
  const file = writeDeb(mkdtempSync(join(work, "deb-")), "tool", version, "amd64");
  await cli(["pkgs", "add", "--repository", repo, "--dist", "stable", file]);
  await cli(["publish", "--repository", repo, "--dist", "stable", "--key-file", secretKeyFile]);
  return file;
}

/** A snapshot ID, apt's `YYYYMMDDTHHMMSSZ`, for the second `ms` falls in. */
function snapshotId(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]|\.\d{3}/g, "");
}

/** Wait until the wall clock is in a later second: snapshot IDs have one-second resolution. */
async function nextSecond(): Promise<void> {
  await sleep(1000 - (Date.now() % 1000) + 50);
}

/** What apt's http method requested (`Debug::Acquire::http`): the request lines, as sent. */
function requested(run: AptRun): string[] {
  return [...run.output.matchAll(/^GET (\S+) HTTP\/1\.1$/gm)].map((m) => m[1] ?? "");
}

/**
 * Everything in apt's output that is not a clean success: `W:`/`E:` lines, failed or ignored
 * fetches (`Err:`, `Ign:`), notices (`N:`). apt(8) also says on stderr that its CLI is not stable
 * when not on a terminal; that line alone is allowed.
 */
function complaints(run: AptRun): string[] {
  return [
    ...problems(run),
    ...run.output
      .split("\n")
      .filter(
        (l) =>
          /^(?:Err|Ign|N):/.test(l) ||
          (/warning/i.test(l) &&
            l !== "WARNING: apt does not have a stable CLI interface. Use with caution in scripts."),
      ),
  ];
}

/** A response header apt saw for `url` (`Debug::Acquire::http` prints each answer's headers). */
function answered(run: AptRun, url: string, header: string): string | undefined {
  const block = run.output.split(`Answer for: ${url}\n`)[1]?.split("\n\n")[0] ?? "";
  return new RegExp(`^${header}: (.*)$`, "im").exec(block)?.[1];
}

interface Case {
  repo: string;
  /** The repository root apt is given (`URIs:`), and that the Release names in `Snapshots:`. */
  base: string;
  /** How the Debug::Acquire::http request line names `{base}/{path}`: a path, or the proxy's absolute form. */
  requestPath: (path: string) => string;
  apt: AptRoot;
  source: Source;
}

/**
 * Release A (`tool` 1.0), its instant, release B (`tool` 2.0) in a later second; then apt 3's
 * `update --snapshot` for A's instant sees 1.0 only, and for now and for a future instant sees 2.0.
 * Returns A's snapshot ID.
 */
async function checkSnapshots({ repo, base, requestPath, apt, source }: Case, expect: ExpectStatic): Promise<string> {
  apt.addSource("armor", source);
  const a = await publishTool(repo, "1.0");
  // Publish returns once the edge serves A, so A was active at some moment of this second.
  const idA = snapshotId(Date.now());
  await nextSecond();
  await publishTool(repo, "2.0");

  // The template apt will fill in, in the signed Release.
  const release = await (await fetch(`${stack.endpoint}/${repo}/dists/stable/InRelease`)).text();
  expect(release).toContain(`\nSnapshots: ${base}/@SNAPSHOTID@/\n`);

  // apt learns the Snapshots: template from the Release of an ordinary update.
  const plain = await apt.get(["update"]);
  expect(plain.code, `apt-get update:\n${plain.output}`).toBe(0);
  expect(complaints(plain), plain.output).toEqual([]);
  // Release B adds 2.0 beside 1.0 (pkgs add adds to the dist): the latest offers both.
  const latest = (origin: string) => ({
    candidate: "2.0",
    versions: [
      { version: "2.0", origins: [`${origin} stable/main amd64 Packages`] },
      { version: "1.0", origins: [`${origin} stable/main amd64 Packages`] },
    ],
  });
  const onlyA = (origin: string) => ({
    candidate: "1.0",
    versions: [{ version: "1.0", origins: [`${origin} stable/main amd64 Packages`] }],
  });
  expect(await apt.policy("tool")).toEqual(latest(base));

  // A's last: `apt-get download` below reads the lists of the latest update.
  // DESIGN.md §5: a past instant's answer is settled (immutable); one not yet past is the active
  // release, revalidated like dists/. "now" may turn past between here and apt's request: either.
  const settled = "max-age=31536000, immutable";
  const unsettled = "max-age=1800, proxy-revalidate";
  const cases = [
    // The second now running is not past: the release active now, not yet settled.
    { id: snapshotId(Date.now()), policy: latest, what: "now", cacheControl: [unsettled, settled] },
    { id: snapshotId(Date.now() + 86_400_000), policy: latest, what: "a day ahead", cacheControl: [unsettled] },
    { id: idA, policy: onlyA, what: "A's instant", cacheControl: [settled] },
  ];
  for (const { id, policy, what, cacheControl } of cases) {
    const update = await apt.apt(["update", "--snapshot", id], {
      // Trixie's apt verifies with sqv (Sequoia) when installed, as minbase installs it; gpgv otherwise.
      options: { "Debug::Acquire::http": "true", "Debug::Acquire::sqv": "true", "Debug::Acquire::gpgv": "true" },
    });
    const label = `apt update --snapshot ${id} (${what})`;
    expect(update.code, `${label}:\n${update.output}`).toBe(0);
    expect(complaints(update), `${label}:\n${update.output}`).toEqual([]);
    const urls = requested(update);
    console.log(`${label} requested:\n  ${urls.join("\n  ")}`);
    expect(urls, label).toContain(requestPath(`${id}/dists/stable/InRelease`));
    // The source at the snapshot's URL shadows the plain one: apt still refreshes the plain
    // InRelease (where the Snapshots: template comes from), and takes every index from the snapshot.
    const snapshot = new RegExp(`^${escapeRegExp(requestPath(`${id}/dists/stable/`))}`);
    for (const url of urls) {
      if (url !== requestPath("dists/stable/InRelease")) expect(url, label).toMatch(snapshot);
    }
    // apt's own account of the check: a good signature by the key in Signed-By, from sqv or gpgv.
    const fingerprint = inject("keys").trusted.fingerprint;
    expect(update.output, label).toMatch(
      new RegExp(`^(?:Got GOODSIG|Got trusted VALIDSIG, key ID:) ${fingerprint}$`, "m"),
    );

    expect(cacheControl, label).toContain(answered(update, `${base}/${id}/dists/stable/InRelease`, "Cache-Control"));

    expect(await apt.policy("tool", { snapshot: id }), label).toEqual(policy(`${base}/${id}`));
  }

  // The package itself, from A's snapshot (its pool, under the snapshot's root): release A's bytes.
  const cwd = mkdtempSync(join(apt.dir, "download-"));
  const download = await apt.get(["--snapshot", idA, "download", "tool"], {
    cwd,
    options: { "Debug::Acquire::http": "true" },
  });
  expect(download.code, `apt-get --snapshot ${idA} download tool:\n${download.output}`).toBe(0);
  expect(requested(download)).toEqual([requestPath(`${idA}/pool/main/t/tool/tool_1.0_amd64.deb`)]);
  expect(sha256File(join(cwd, "tool_1.0_amd64.deb"))).toBe(sha256File(a));

  // The same snapshot pinned in the source (sources.list(5) `Snapshot: ID`) rather than asked for.
  apt.addSource("armor", { ...source, snapshot: idA });
  const pinned = await apt.get(["update"], { options: { "Debug::Acquire::http": "true" } });
  expect(pinned.code, `apt-get update with Snapshot: ${idA}:\n${pinned.output}`).toBe(0);
  expect(complaints(pinned), pinned.output).toEqual([]);
  expect(requested(pinned)).toContain(requestPath(`${idA}/dists/stable/InRelease`));
  expect(await apt.policy("tool")).toEqual(onlyA(`${base}/${idA}`));
  return idA;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

async function fetchKeyring(repo: string, dir: string): Promise<string> {
  const res = await fetch(`${stack.endpoint}/${repo}/archive-keyring.gpg`);
  if (res.status !== 200) throw new Error(`${repo}/archive-keyring.gpg: ${res.status} ${await res.text()}`);
  const path = join(dir, "archive-keyring.gpg");
  writeFileSync(path, Buffer.from(await res.arrayBuffer()));
  return path;
}

describe("apt 3 (Debian trixie) follows Armor's Snapshots: template", () => {
  it("for a repository reached by path on the platform host", async ({ expect }) => {
    const repo = "e2e/apt3-snapshots";
    await cli(["repo", "create", repo]);
    await cli(["key", "add", "--repository", repo, publicKeyFile]);
    const apt = aptRoot({ chroot: trixie, parent: work });
    const base = `${stack.endpoint}/${repo}`;
    const source = { uris: [`${base}/`], suites: ["stable"], signedBy: await fetchKeyring(repo, apt.dir) };
    await checkSnapshots({ repo, base, requestPath: (path) => `/${repo}/${path}`, apt, source }, expect);
  }, 120_000);

  it("for a repository reached by its hostname through the Worker as proxy", async ({ expect }) => {
    const hostname = "apt.e2e-apt3-snapshots.example";
    const repo = "e2e/apt3-snapshots-host";
    await cli(["repo", "create", repo, "--hostname", hostname]);
    await cli(["key", "add", "--repository", repo, publicKeyFile]);
    // apt sends `GET http://{hostname}/… HTTP/1.1` to its proxy, the local Worker, which routes by
    // that Host as Cloudflare would for the real hostname; the Release's root is http://{hostname}.
    const apt = aptRoot({ chroot: trixie, parent: work, proxies: { [hostname]: `${stack.endpoint}/` } });
    const base = `http://${hostname}`;
    const source = { uris: [`${base}/`], suites: ["stable"], signedBy: await fetchKeyring(repo, apt.dir) };
    const idA = await checkSnapshots({ repo, base, requestPath: (path) => `${base}/${path}`, apt, source }, expect);

    // Reached by path, the repository's Release still names http://{hostname} as its root (one
    // template in a Release signed once): apt takes the snapshot from the hostname, which this
    // client reaches, as any client of a deployed Armor would, through the proxy.
    const byPath = aptRoot({ chroot: trixie, parent: work, proxies: { [hostname]: `${stack.endpoint}/` } });
    byPath.addSource("armor", { ...source, uris: [`${stack.endpoint}/${repo}/`] });
    const plain = await byPath.get(["update"]);
    expect(plain.code, plain.output).toBe(0);
    const update = await byPath.apt(["update", "--snapshot", idA], { options: { "Debug::Acquire::http": "true" } });
    expect(update.code, update.output).toBe(0);
    expect(complaints(update), update.output).toEqual([]);
    // Two hosts, two connections: in either order.
    const urls = requested(update);
    expect(urls, update.output).toHaveLength(3);
    expect(urls, update.output).toEqual(
      expect.arrayContaining([
        `http://${hostname}/${idA}/dists/stable/InRelease`,
        `/${repo}/dists/stable/InRelease`,
        expect.stringMatching(
          new RegExp(`^http://${escapeRegExp(hostname)}/${idA}/dists/stable/main/binary-amd64/by-hash/`),
        ),
      ]),
    );
    expect(await byPath.policy("tool", { snapshot: idA })).toEqual({
      candidate: "1.0",
      versions: [{ version: "1.0", origins: [`${base}/${idA} stable/main amd64 Packages`] }],
    });
  }, 120_000);
});
