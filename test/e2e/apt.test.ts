/**
 * Debian's own apt against Armor, end to end: the real Worker (local stack), the real `armor` CLI
 * publishing as a CI job would, and the real `apt-get` and `apt-cache` with an isolated
 * configuration (test/e2e/apt.ts) whose only trust is the keyring each repository publishes
 * (deb822 `Signed-By:`). Never `--allow-unauthenticated`, never `trusted=yes`.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, inject, it } from "vitest";
import { armor, writeDeb } from "../cli/armor.ts";
import { dearmoredKeyring } from "../cli/gpg-tools.ts";
import { type LocalStack, startLocalStack } from "../helpers/local-stack.ts";
import { type AptRoot, type AptRootOptions, aptRoot, problems, requireAptTools, sha256File } from "./apt.ts";
import { startTamperingProxy } from "./tampering-proxy.ts";

let stack: LocalStack;
let work: string;
let secretKeyFile: string;
let publicKeyFile: string;

beforeAll(async () => {
  // Fails (never skips) with what to install when apt, gpg, gpgv or dpkg is missing.
  requireAptTools();
  stack = await startLocalStack();
  work = mkdtempSync(join(tmpdir(), "armor-e2e-"));
  secretKeyFile = join(work, "signing.sec.asc");
  publicKeyFile = join(work, "signing.pub.asc");
  writeFileSync(secretKeyFile, inject("keys").trusted.secret);
  writeFileSync(publicKeyFile, inject("keys").trusted.public);
}, 120_000);

afterAll(async () => {
  await stack?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** The test key's long key id, as apt and gpgv print it in GOODSIG, BADSIG and NO_PUBKEY. */
const keyId = () => inject("keys").trusted.fingerprint.slice(-16);

async function cli(args: string[]): Promise<string> {
  // HOME and XDG_CONFIG_HOME inside the run's work dir, so nothing is left behind in /tmp.
  const ran = await armor(args, {
    ARMOR_ENDPOINT: stack.endpoint,
    ARMOR_TOKEN: stack.token,
    HOME: work,
    XDG_CONFIG_HOME: join(work, "config"),
  });
  if (ran.code !== 0) throw new Error(`armor ${args.join(" ")} exited ${ran.code}:\n${ran.stderr}${ran.stdout}`);
  return ran.stdout;
}

/** A repository made through the CLI, trusting the test key. */
async function createRepo(id: string, options: { private?: boolean; hostname?: string } = {}): Promise<string> {
  await cli([
    "repo",
    "create",
    id,
    ...(options.private ? ["--private"] : []),
    ...(options.hostname ? ["--hostname", options.hostname] : []),
  ]);
  await cli(["key", "add", "--repository", id, publicKeyFile]);
  return id;
}

/** `armor pkgs add` for each dist, then one `armor publish` of them all, signed with the test key. */
async function publish(repo: string, packages: Record<string, string[]>): Promise<void> {
  for (const [dist, files] of Object.entries(packages)) {
    await cli(["pkgs", "add", "--repository", repo, "--dist", dist, ...files]);
  }
  await cli(["publish", "--repository", repo, "--dist", ...Object.keys(packages), "--key-file", secretKeyFile]);
}

/** A package file in a directory of its own (names repeat across tests; contents must not mix). */
function deb(name: string, version: string, arch = "amd64"): string {
  return writeDeb(mkdtempSync(join(work, "deb-")), name, version, arch);
}

/** The repository root apt is pointed at, by path on the platform host. */
function root(repo: string): string {
  return `${stack.endpoint}/${repo}`;
}

/** Download `{root}/archive-keyring.gpg` (binary, what `Signed-By:` takes) into `dir`. */
async function fetchKeyring(repo: string, dir: string, token?: string): Promise<string> {
  const res = await fetch(`${root(repo)}/archive-keyring.gpg`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  if (res.status !== 200) throw new Error(`archive-keyring.gpg: ${res.status} ${await res.text()}`);
  const path = join(dir, `${repo.replace("/", "-")}-archive-keyring.gpg`);
  writeFileSync(path, Buffer.from(await res.arrayBuffer()));
  return path;
}

/** A fresh isolated apt below the run's work dir (removed after the file's tests). */
function newApt(options: Omit<AptRootOptions, "parent"> = {}): AptRoot {
  return aptRoot({ ...options, parent: work });
}

/** A source for `repo` by path, trusting only the keyring it publishes; returns the apt root. */
async function aptFor(repo: string, suites: string[], uri = `${root(repo)}/`): Promise<AptRoot> {
  const apt = newApt();
  apt.addSource("armor", { uris: [uri], suites, signedBy: await fetchKeyring(repo, apt.dir) });
  return apt;
}

/** `Release`'s Date field, as apt compares it. */
async function releaseDate(base: string, dist: string): Promise<number> {
  const text = await (await fetch(`${base}/dists/${dist}/Release`)).text();
  const date = /^Date: (.+)$/m.exec(text)?.[1];
  if (date === undefined) throw new Error(`no Date in ${base}/dists/${dist}/Release`);
  return Date.parse(date);
}

/** Wait until the wall clock is in a later second than now: Release dates and snapshot URLs have one-second resolution. */
async function nextSecond(): Promise<void> {
  await sleep(1000 - (Date.now() % 1000) + 50);
}

// One after another: side by side they are no faster (each armor call is a Node process) and each
// one takes longer, on a two-core CI machine too close to its timeout.
describe("apt-get against Armor", () => {
  it("verifies two dists, lists their versions and downloads the very bytes uploaded", async ({ expect }) => {
    const repo = await createRepo("e2e/two-dists");
    const stableHello = deb("hello", "1.0-1");
    const stableDoc = deb("hello-doc", "1.0-1", "all");
    const testingHello = deb("hello", "2.0-1");
    await publish(repo, { stable: [stableHello, stableDoc], testing: [testingHello] });
    const apt = await aptFor(repo, ["stable", "testing"]);

    const update = await apt.get(["update"], { options: { "Debug::Acquire::gpgv": "true" } });
    expect(update.code, update.output).toBe(0);
    expect(problems(update)).toEqual([]);
    expect(update.output).toContain(`${root(repo)} stable InRelease`);
    expect(update.output).toContain(`${root(repo)} testing InRelease`);
    // apt's own account of the check: gpgv found a good signature by the key in Signed-By, twice.
    const fingerprint = inject("keys").trusted.fingerprint;
    expect(update.output.split(`Got trusted VALIDSIG, key ID: ${fingerprint}`)).toHaveLength(3);

    const hello = await apt.policy("hello");
    expect(hello.candidate).toBe("2.0-1");
    expect(hello.versions).toEqual([
      { version: "2.0-1", origins: [`${root(repo)} testing/main amd64 Packages`] },
      { version: "1.0-1", origins: [`${root(repo)} stable/main amd64 Packages`] },
    ]);
    // Architecture: all is listed in binary-amd64, as apt expects of a Debian archive.
    expect((await apt.policy("hello-doc")).versions).toEqual([
      { version: "1.0-1", origins: [`${root(repo)} stable/main amd64 Packages`] },
    ]);

    const cwd = mkdtempSync(join(apt.dir, "download-"));
    const download = await apt.get(["download", "hello=1.0-1", "hello-doc"], { cwd });
    expect(download.code, download.output).toBe(0);
    expect(readdirSync(cwd).sort()).toEqual(["hello-doc_1.0-1_all.deb", "hello_1.0-1_amd64.deb"]);
    expect(sha256File(join(cwd, "hello_1.0-1_amd64.deb"))).toBe(sha256File(stableHello));
    expect(sha256File(join(cwd, "hello-doc_1.0-1_all.deb"))).toBe(sha256File(stableDoc));

    // The resolver's path: the candidate from testing, into the (isolated) archives cache.
    const install = await apt.get(["install", "--download-only", "--yes", "hello", "hello-doc"]);
    expect(install.code, install.output).toBe(0);
    expect(install.output).toContain("Download complete and in download only mode");
    expect(
      readdirSync(apt.archives)
        .filter((f) => f.endsWith(".deb"))
        .sort(),
    ).toEqual(["hello-doc_1.0-1_all.deb", "hello_2.0-1_amd64.deb"]);
    expect(sha256File(join(apt.archives, "hello_2.0-1_amd64.deb"))).toBe(sha256File(testingHello));
    expect(sha256File(join(apt.archives, "hello-doc_1.0-1_all.deb"))).toBe(sha256File(stableDoc));
  }, 90_000);

  it('updates with Acquire::By-Hash "force", fetching every index by its hash', async ({ expect }) => {
    const repo = await createRepo("e2e/by-hash");
    await publish(repo, { stable: [deb("tool", "1.0")] });
    const apt = await aptFor(repo, ["stable"]);

    const update = await apt.get(["update"], {
      options: { "Acquire::By-Hash": "force", "Debug::Acquire::http": "true" },
    });
    expect(update.code, update.output).toBe(0);
    expect(problems(update)).toEqual([]);
    const requested = [...update.output.matchAll(/^GET (\S+) HTTP\/1\.1$/gm)].map((m) => m[1] ?? "");
    const indexes = requested.filter((p) => p.includes("/binary-amd64/"));
    expect(indexes.length, requested.join("\n")).toBeGreaterThan(0);
    for (const path of indexes) expect(path).toMatch(/\/main\/binary-amd64\/by-hash\/SHA(256|512)\/[0-9a-f]{64,128}$/);
    expect((await apt.policy("tool")).candidate).toBe("1.0");
  }, 60_000);

  it("reads a Packages.gz of several gzip members, an index with no uncompressed Packages", async ({ expect }) => {
    const repo = await createRepo("e2e/chunked");
    const dir = mkdtempSync(join(work, "debs-"));
    // 48 packages of about 64 KiB of stanza each: three chunks of CHUNK_BYTES (1 MiB).
    const names = Array.from({ length: 48 }, (_, i) => `big-${String(i).padStart(2, "0")}`);
    await publish(repo, { stable: names.map((n) => writeDeb(dir, n, "1.0", "amd64", 2000)) });
    const release = await (await fetch(`${root(repo)}/dists/stable/Release`)).text();
    expect(release).toMatch(/ main\/binary-amd64\/Packages\.gz$/m);
    // Listed for apt (by size and SHA-256), not served, as in Debian's archive.
    expect(release).toMatch(/^ [0-9a-f]{64} +\d+ main\/binary-amd64\/Packages$/m);
    expect((await fetch(`${root(repo)}/dists/stable/main/binary-amd64/Packages`)).status).toBe(404);
    const gz = Buffer.from(
      await (await fetch(`${root(repo)}/dists/stable/main/binary-amd64/Packages.gz`)).arrayBuffer(),
    );
    const members = gz.reduce((n, _, i) => (gz[i] === 0x1f && gz[i + 1] === 0x8b && gz[i + 2] === 8 ? n + 1 : n), 0);
    expect(members).toBeGreaterThanOrEqual(3);
    // Served as its members back to back: HEAD, ETag and a Range across a member boundary agree with the bytes.
    const url = `${root(repo)}/dists/stable/main/binary-amd64/Packages.gz`;
    const sha = createHash("sha256").update(gz).digest("hex");
    const head = await fetch(url, { method: "HEAD" });
    expect([head.status, head.headers.get("content-length"), head.headers.get("etag")]).toEqual([
      200,
      String(gz.length),
      `"${sha}"`,
    ]);
    const second = gz.indexOf(Buffer.from([0x1f, 0x8b, 8]), 1);
    const ranged = await fetch(url, { headers: { range: `bytes=${second - 100}-${second + 99}` } });
    expect(ranged.status).toBe(206);
    expect(Buffer.from(await ranged.arrayBuffer())).toEqual(gz.subarray(second - 100, second + 100));

    const apt = await aptFor(repo, ["stable"]);
    const update = await apt.get(["update"]);
    expect(update.code, update.output).toBe(0);
    expect(problems(update)).toEqual([]);
    for (const name of [names[0] ?? "", names[12] ?? "", names[23] ?? ""]) {
      expect((await apt.policy(name)).candidate).toBe("1.0");
    }
    const download = await apt.get(["download", "big-23"], { cwd: dir });
    expect(download.code, download.output).toBe(0);
  }, 90_000);

  it("follows a newer release, and a rollback: re-activation reaches only fresh clients, release rollback reaches all", async ({
    expect,
  }) => {
    const repo = await createRepo("e2e/rollback");
    await publish(repo, { stable: [deb("tool", "1.0")] });
    const olderDate = await releaseDate(root(repo), "stable");
    const apt = await aptFor(repo, ["stable"]);
    const first = await apt.get(["update"]);
    expect(first.code, first.output).toBe(0);
    expect(await apt.policy("tool")).toMatchObject({ candidate: "1.0", versions: [{ version: "1.0" }] });

    await nextSecond();
    const newer = deb("tool", "2.0");
    await publish(repo, { stable: [newer] });
    const newerDate = await releaseDate(root(repo), "stable");
    const second = await apt.get(["update"]);
    expect(second.code, second.output).toBe(0);
    expect(problems(second)).toEqual([]);
    expect(await apt.policy("tool")).toMatchObject({
      candidate: "2.0",
      versions: [{ version: "2.0" }, { version: "1.0" }],
    });

    // Re-activating r1 serves its Release as it was signed, dated before r2's. apt ignores a
    // Release older than the one it holds (a guard against replayed metadata): no error, no
    // warning, and this machine keeps 2.0. Only machines that never saw r2 would get r1.
    expect(await cli(["release", "activate", "--repository", repo, "r1"])).toBe("release r1 is active (was r2)\n");
    expect(await releaseDate(root(repo), "stable")).toBe(olderDate);
    expect(olderDate).toBeLessThan(newerDate);
    const kept = await apt.get(["update"]);
    expect(kept.code, kept.output).toBe(0);
    expect(problems(kept)).toEqual([]);
    expect((await apt.policy("tool")).candidate).toBe("2.0");
    const fresh = await aptFor(repo, ["stable"]);
    expect((await fresh.get(["update"])).code).toBe(0);
    expect(await fresh.policy("tool")).toMatchObject({ candidate: "1.0", versions: [{ version: "1.0" }] });

    // The rollback apt follows: r1's contents in a new release, newly dated and signed.
    await nextSecond();
    const rollback = await cli(["release", "rollback", "--repository", repo, "r1", "--key-file", secretKeyFile]);
    expect(rollback).toBe("release r3 (the contents of r1, newly signed) is active\n");
    expect(await releaseDate(root(repo), "stable")).toBeGreaterThan(newerDate);
    const back = await apt.get(["update"]);
    expect(back.code, back.output).toBe(0);
    expect(problems(back)).toEqual([]);
    expect(await apt.policy("tool")).toMatchObject({ candidate: "1.0", versions: [{ version: "1.0" }] });
  }, 90_000);

  it("serves apt the release that was active at a snapshot URL's instant", async ({ expect }) => {
    const repo = await createRepo("e2e/snapshot");
    const old = deb("tool", "1.0");
    await publish(repo, { stable: [old] });
    await nextSecond();
    await publish(repo, { stable: [deb("tool", "2.0")] });

    const res = await fetch(`${stack.endpoint}/api/v1/repositories/${repo}/activations`, {
      headers: { authorization: `Bearer ${stack.token}` },
    });
    expect(res.status).toBe(200);
    const { activations } = (await res.json()) as { activations: { release: string; visible_at: string | null }[] };
    const visible = (release: string) => {
      const at = activations.find((a) => a.release === release)?.visible_at;
      if (!at) throw new Error(`${release} was never visible: ${JSON.stringify(activations)}`);
      return Date.parse(at);
    };
    // The second in which r1 became visible ends before r2 did: its URL names r1's state.
    const instant = Math.floor(visible("r1") / 1000) * 1000;
    expect(visible("r2")).toBeGreaterThan(instant + 999);
    const stamp = new Date(instant).toISOString().replace(/[-:]|\.\d{3}/g, "");
    expect(stamp).toMatch(/^\d{8}T\d{6}Z$/);

    const apt = await aptFor(repo, ["stable"], `${root(repo)}/${stamp}/`);
    const update = await apt.get(["update"]);
    expect(update.code, update.output).toBe(0);
    expect(problems(update)).toEqual([]);
    expect(await apt.policy("tool")).toEqual({
      candidate: "1.0",
      versions: [{ version: "1.0", origins: [`${root(repo)}/${stamp} stable/main amd64 Packages`] }],
    });
    const cwd = mkdtempSync(join(apt.dir, "download-"));
    const download = await apt.get(["download", "tool"], { cwd });
    expect(download.code, download.output).toBe(0);
    expect(sha256File(join(cwd, "tool_1.0_amd64.deb"))).toBe(sha256File(old));
  }, 60_000);

  it("reads a private repository with auth.conf, and gets 401 without it", async ({ expect }) => {
    const repo = await createRepo("e2e/private", { private: true });
    const file = deb("secret-tool", "1.0");
    await publish(repo, { stable: [file] });
    const apt = newApt();
    apt.addSource("armor", {
      uris: [`${root(repo)}/`],
      suites: ["stable"],
      signedBy: await fetchKeyring(repo, apt.dir, stack.token),
    });

    const refused = await apt.get(["update"]);
    expect(refused.code).toBe(100);
    expect(refused.output).toMatch(/401\s+Unauthorized/);
    expect((await apt.policy("secret-tool")).candidate).toBeNull();

    // apt_auth.conf(5): without a scheme an entry matches https only; plain http is for loopback,
    // the only place the Worker accepts credentials in cleartext.
    const { host } = new URL(stack.endpoint);
    apt.addAuth("armor", `machine http://${host}/${repo} login e2e password ${stack.token}\n`);
    const update = await apt.get(["update"]);
    expect(update.code, update.output).toBe(0);
    expect(problems(update)).toEqual([]);
    expect((await apt.policy("secret-tool")).candidate).toBe("1.0");
    const cwd = mkdtempSync(join(apt.dir, "download-"));
    const download = await apt.get(["download", "secret-tool"], { cwd });
    expect(download.code, download.output).toBe(0);
    expect(sha256File(join(cwd, "secret-tool_1.0_amd64.deb"))).toBe(sha256File(file));
  }, 60_000);

  it.for(["public", "private"] as const)(
    "runs what repo setup prints for a %s repository, as printed, and apt installs from it",
    { timeout: 60_000 },
    async (visibility, { expect }) => {
      const repo = await createRepo(`e2e/setup-${visibility}`, { private: visibility === "private" });
      const file = deb("setup-tool", "1.0");
      await publish(repo, { stable: [file] });
      const script = await cli(["repo", "setup", "--repository", repo, "--dist", "stable"]);
      expect(script).not.toContain(stack.token);

      // The script as a user runs it, its system paths moved into an isolated apt root, and sudo a
      // no-op: its curl, tee, install and apt-get run unchanged.
      const apt = newApt();
      const moved = script
        .replaceAll("/usr/share/keyrings/", `${apt.dir}/etc/`)
        .replaceAll("/etc/apt/", `${apt.dir}/etc/`);
      const run = spawnSync("bash", ["-euo", "pipefail", "-c", `sudo() { "$@"; }\n${moved}`], {
        env: {
          PATH: process.env.PATH ?? "/usr/bin:/bin",
          HOME: apt.dir,
          LC_ALL: "C",
          APT_CONFIG: join(apt.dir, "apt.conf"),
          ...(visibility === "private" ? { ARMOR_TOKEN: stack.token } : {}),
        },
        encoding: "utf8",
      });
      expect(run.status, `${run.stdout}${run.stderr}`).toBe(0);
      expect(
        problems({ code: 0, stdout: run.stdout, stderr: run.stderr, output: `${run.stdout}${run.stderr}` }),
      ).toEqual([]);
      expect((await apt.policy("setup-tool")).candidate).toBe("1.0");
      if (visibility === "private") {
        // Without the token the script stops at its first command and says what it needs.
        const bare = spawnSync("bash", ["-euo", "pipefail", "-c", `sudo() { "$@"; }\n${moved}`], {
          env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: apt.dir, APT_CONFIG: join(apt.dir, "apt.conf") },
          encoding: "utf8",
        });
        expect(bare.status).not.toBe(0);
        expect(bare.stderr).toContain("set ARMOR_TOKEN to an API token with the viewer role");
      }
    },
  );

  describe("refuses what does not verify", () => {
    it("a repository signed by a key other than the source's Signed-By", async ({ expect }) => {
      const repo = await createRepo("e2e/other-key");
      await publish(repo, { stable: [deb("tool", "1.0")] });
      const apt = newApt();
      // The keyring of a different key, as a user would have if the repository's key were replaced.
      const keyring = dearmoredKeyring(apt.dir, [inject("keys").untrusted.public], "other-keyring.gpg");
      apt.addSource("armor", { uris: [`${root(repo)}/`], suites: ["stable"], signedBy: keyring });

      const update = await apt.get(["update"]);
      expect(update.code).toBe(100);
      expect(update.output).toContain(`NO_PUBKEY ${keyId()}`);
      expect(update.output).toContain(`E: The repository '${root(repo)} stable InRelease' is not signed.`);
      expect(await apt.policy("tool")).toEqual({ candidate: null, versions: [] });
      const download = await apt.get(["download", "tool"], { cwd: mkdtempSync(join(apt.dir, "download-")) });
      expect(download.code).toBe(100);
      expect(download.output).toContain("E: Unable to locate package tool");
    }, 60_000);

    it("an InRelease altered on the way, with the right key in Signed-By", async ({ expect, onTestFinished }) => {
      const repo = await createRepo("e2e/tampered");
      await publish(repo, { stable: [deb("tool", "1.0")] });
      // An attacker swaps the description inside the signed text; the signature no longer matches.
      const proxy = await startTamperingProxy((url, body) =>
        url.pathname.endsWith("/InRelease")
          ? Buffer.from(body.toString("utf8").replace(/^Description: .*$/m, "Description: trust me"))
          : null,
      );
      onTestFinished(() => proxy.close());
      const apt = newApt({ proxies: { [new URL(stack.endpoint).hostname]: proxy.url } });
      apt.addSource("armor", {
        uris: [`${root(repo)}/`],
        suites: ["stable"],
        signedBy: await fetchKeyring(repo, apt.dir),
      });

      const update = await apt.get(["update"]);
      expect(proxy.tampered).toEqual([`${root(repo)}/dists/stable/InRelease`]);
      expect(update.code).toBe(100);
      expect(update.output).toContain(`BADSIG ${keyId()}`);
      expect(update.output).toContain(`E: The repository '${root(repo)} stable InRelease' is not signed.`);
      expect(await apt.policy("tool")).toEqual({ candidate: null, versions: [] });
    }, 60_000);
  });

  it("installs from a component with a slash, published as the design spells it (by hostname)", async ({ expect }) => {
    const hostname = "apt.releases.e2e-slash.example";
    const repo = await createRepo("e2e/slash", { hostname });
    const file = deb("package", "17.0.1");
    await cli(["pkgs", "add", "--repository", hostname, "--dist", "bookworm", "--component", "stable/v17", file]);
    await cli(["index", "generate", "--repository", hostname, "--dist", "bookworm"]);
    await cli(["publish", "--repository", hostname, "--dist", "bookworm", "--key-file", secretKeyFile]);
    const setup = JSON.parse(
      await cli([
        "repo",
        "setup",
        "--repository",
        hostname,
        "--dist",
        "bookworm",
        "--component",
        "stable/v17",
        "--json",
      ]),
    ) as { sources: string };
    expect(setup.sources).toContain("Components: stable/v17");

    const apt = newApt();
    apt.addSource("armor", {
      uris: [`${root(repo)}/`],
      suites: ["bookworm"],
      components: ["stable/v17"],
      signedBy: await fetchKeyring(repo, apt.dir),
    });
    const update = await apt.get(["update"]);
    expect(update.code, update.output).toBe(0);
    expect(problems(update)).toEqual([]);
    expect(await apt.policy("package")).toEqual({
      candidate: "17.0.1",
      versions: [{ version: "17.0.1", origins: [`${root(repo)} bookworm/stable/v17 amd64 Packages`] }],
    });
    const install = await apt.get(["install", "--download-only", "--yes", "package"]);
    expect(install.code, install.output).toBe(0);
    expect(sha256File(join(apt.archives, "package_17.0.1_amd64.deb"))).toBe(sha256File(file));
  }, 60_000);

  it("reaches a repository by its hostname through the Worker as proxy, and by path", async ({ expect }) => {
    const hostname = "apt.e2e-hosts.example";
    const repo = await createRepo("e2e/hosts", { hostname });
    const file = deb("tool", "1.0");
    await publish(repo, { stable: [file] });

    const byPath = await aptFor(repo, ["stable"]);
    // apt sends the absolute form `GET http://apt.e2e-hosts.example/… HTTP/1.1` to its proxy, the
    // local Worker, which routes by that Host as Cloudflare would for the real hostname.
    const byHost = newApt({ proxies: { [hostname]: `${stack.endpoint}/` } });
    byHost.addSource("armor", {
      uris: [`http://${hostname}/`],
      suites: ["stable"],
      signedBy: await fetchKeyring(repo, byHost.dir),
    });

    for (const [apt, base, debug] of [
      [byPath, root(repo), `GET /${repo}/dists/stable/InRelease HTTP/1.1`],
      [byHost, `http://${hostname}`, `GET http://${hostname}/dists/stable/InRelease HTTP/1.1`],
    ] as const) {
      const update = await apt.get(["update"], { options: { "Debug::Acquire::http": "true" } });
      expect(update.code, update.output).toBe(0);
      expect(problems(update)).toEqual([]);
      expect(update.output).toContain(debug);
      expect(await apt.policy("tool")).toEqual({
        candidate: "1.0",
        versions: [{ version: "1.0", origins: [`${base} stable/main amd64 Packages`] }],
      });
      const cwd = mkdtempSync(join(apt.dir, "download-"));
      const download = await apt.get(["download", "tool"], { cwd });
      expect(download.code, download.output).toBe(0);
      expect(download.output).toContain(`Get:1 ${base} stable/main amd64 tool amd64 1.0`);
      expect(sha256File(join(cwd, "tool_1.0_amd64.deb"))).toBe(sha256File(file));
    }
  }, 60_000);
});
