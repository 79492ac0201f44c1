import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { afterAll, beforeAll, describe, inject, it } from "vitest";
import { buildDeb } from "../../deb/deb-writer.ts";
import { BATCH_MAX_FILE_BYTES as BATCH_FILE_LIMIT } from "../../schema/limits.ts";
import { type LocalStack, startLocalStack } from "../helpers/local-stack.ts";
import { armor, writeDeb } from "./armor.ts";

let stack: LocalStack;
let work: string;
let keyFile: string;
let publicKeyFile: string;
let n = 0;

beforeAll(async () => {
  stack = await startLocalStack();
  work = mkdtempSync(join(tmpdir(), "armor-cli-"));
  keyFile = join(work, "signing.sec.asc");
  publicKeyFile = join(work, "signing.pub.asc");
  writeFileSync(keyFile, inject("keys").trusted.secret);
  writeFileSync(publicKeyFile, inject("keys").trusted.public);
}, 60_000);

afterAll(async () => {
  await stack?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

function env(extra: Record<string, string> = {}): Record<string, string> {
  return { ARMOR_ENDPOINT: stack.endpoint, ARMOR_TOKEN: stack.token, ...extra };
}

/** A new repository with the test key trusted, made through the CLI. */
async function newRepo(): Promise<string> {
  n += 1;
  const id = `acme/cli-${n}`;
  const created = await armor(["repo", "create", id], env());
  if (created.code !== 0) throw new Error(created.stderr);
  const key = await armor(["key", "add", "--repository", id, publicKeyFile], env());
  if (key.code !== 0) throw new Error(key.stderr);
  return id;
}

async function served(repo: string, path: string): Promise<Response> {
  return fetch(`${stack.endpoint}/${repo}/${path}`);
}

function packageNames(packages: string): string[] {
  return packages
    .split("\n")
    .filter((l) => l.startsWith("Package: "))
    .map((l) => l.slice(9))
    .sort();
}

describe("armor against the local stack", () => {
  it("runs the seed's four commands end to end, and gpgv accepts what it published", async ({ expect }) => {
    const repo = await newRepo();
    const debs = [writeDeb(work, "hello", "1.0-1"), writeDeb(work, "hello-doc", "1.0-1", "all")];
    const add = await armor(
      ["pkgs", "add", "--repository", repo, "--dist", "stable", "--component", "main", ...debs],
      env(),
    );
    expect(add.stderr).toContain("uploaded: hello_1.0-1_amd64.deb");
    expect(add.code).toBe(0);
    expect(add.stdout).toContain("added 2 package(s)");

    const generated = await armor(["index", "generate", "--repository", repo, "--dist", "stable"], env());
    expect(generated.code).toBe(0);
    expect(generated.stdout).toContain('format = "armor-index/1"');
    const unsigned = join(work, `${n}-unsigned.toml`);
    writeFileSync(unsigned, generated.stdout);
    // The unsigned document uploaded by mistake: said so, and how to sign it.
    const notSigned = await armor(["index", "upload", "--repository", repo, "--dist", "stable", unsigned], env());
    expect(notSigned.code).toBe(1);
    expect(notSigned.stderr).toContain(`${unsigned} is not signed`);
    expect(notSigned.stderr).toContain("armor index sign");

    const signed = await armor(
      ["index", "sign", `--key=${inject("keys").trusted.fingerprint}`, "--key-file", keyFile, unsigned],
      env(),
    );
    expect(signed.stderr).toBe(`signed with ${inject("keys").trusted.fingerprint}\n`);
    expect(signed.code).toBe(0);
    const signedFile = join(work, `${n}-signed.toml`);
    writeFileSync(signedFile, signed.stdout);

    const uploaded = await armor(["index", "upload", "--repository", repo, "--dist", "stable", signedFile], env());
    expect(uploaded.code).toBe(0);
    expect(uploaded.stdout).toContain("is active");

    const keyring = join(work, `${n}-keyring.gpg`);
    spawnSync("gpg", ["--batch", "--yes", "--dearmor", "--output", keyring, publicKeyFile]);
    const inRelease = join(work, `${n}-InRelease`);
    writeFileSync(inRelease, Buffer.from(await (await served(repo, "dists/stable/InRelease")).arrayBuffer()));
    const gpgv = spawnSync("gpgv", ["--keyring", keyring, "--output", "-", inRelease]);
    expect(gpgv.status, gpgv.stderr.toString()).toBe(0);
    const release = Buffer.from(await (await served(repo, "dists/stable/Release")).arrayBuffer());
    expect(gpgv.stdout.toString()).toBe(release.toString());
    const releaseFile = join(work, `${n}-Release`);
    const sigFile = join(work, `${n}-Release.gpg`);
    writeFileSync(releaseFile, release);
    writeFileSync(sigFile, Buffer.from(await (await served(repo, "dists/stable/Release.gpg")).arrayBuffer()));
    const detached = spawnSync("gpgv", ["--keyring", keyring, sigFile, releaseFile]);
    expect(detached.status, detached.stderr.toString()).toBe(0);
    const packages = await (await served(repo, "dists/stable/main/binary-amd64/Packages")).text();
    expect(packageNames(packages)).toEqual(["hello", "hello-doc"]);

    // Again: nothing is uploaded twice, nothing changes.
    const again = await armor(["pkgs", "add", "--repository", repo, "--dist", "stable", ...debs], env());
    expect(again.stderr).toContain("already uploaded: hello_1.0-1_amd64.deb");
    expect(again.stdout).toContain("nothing changed");
  });

  it("publishes from five processes at once, and the active release holds every package", async ({ expect }) => {
    const repo = await newRepo();
    const jobs = Array.from({ length: 5 }, async (_, i) => {
      const deb = writeDeb(work, `job${i}-pkg`, "1.0");
      const add = await armor(["pkgs", "add", "--repository", repo, "--dist", "stable", deb], env());
      if (add.code !== 0) return add;
      return armor(["publish", "--repository", repo, "--dist", "stable", "--key-file", keyFile], env());
    });
    const results = await Promise.all(jobs);
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    const packages = await (await served(repo, "dists/stable/main/binary-amd64/Packages")).text();
    expect(packageNames(packages)).toEqual(["job0-pkg", "job1-pkg", "job2-pkg", "job3-pkg", "job4-pkg"]);
    const listed = await armor(["release", "list", "--repository", repo, "--json"], env());
    const releases = JSON.parse(listed.stdout) as { releases: { state: string }[] };
    expect(releases.releases.filter((r) => r.state === "open")).toEqual([]);
  });

  it("rolls back by activating an older release", async ({ expect }) => {
    const repo = await newRepo();
    for (const version of ["1.0", "2.0"]) {
      await armor(["pkgs", "add", "--repository", repo, "--dist", "stable", writeDeb(work, "tool", version)], env());
      const published = await armor(
        ["publish", "--repository", repo, "--dist", "stable", "--key-file", keyFile, "--json"],
        env(),
      );
      expect(JSON.parse(published.stdout)).toMatchObject({ published: true, dists: [{ activated: true }] });
    }
    expect(packageNames(await (await served(repo, "dists/stable/main/binary-amd64/Packages")).text())).toEqual([
      "tool",
      "tool",
    ]);
    const rollback = await armor(["release", "activate", "--repository", repo, "r1"], env());
    expect(rollback.code).toBe(0);
    expect(rollback.stdout).toBe("release r1 is active (was r2)\n");
    const packages = await (await served(repo, "dists/stable/main/binary-amd64/Packages")).text();
    expect(packages).toContain("Version: 1.0\n");
    expect(packages).not.toContain("Version: 2.0\n");
    const diff = await armor(["release", "diff", "--repository", repo, "r1", "r2", "--json"], env());
    // Adding tool 2.0 keeps 1.0 beside it, as Debian archives may.
    expect(JSON.parse(diff.stdout)).toMatchObject({
      added: [{ name: "tool", version: "2.0" }],
      added_count: 1,
      removed_count: 0,
    });
  });

  it("exits 3 naming the pending release while the edge cannot be told, and 0 only once it serves it", async ({
    expect,
  }) => {
    const repo = await newRepo();
    const publish = (...more: string[]) =>
      armor(["publish", "--repository", repo, "--dist", "stable", "--key-file", keyFile, ...more], env());
    await armor(["pkgs", "add", "--repository", repo, "--dist", "stable", writeDeb(work, "edge", "1.0")], env());
    expect((await publish()).code).toBe(0);
    await armor(["pkgs", "add", "--repository", repo, "--dist", "stable", writeDeb(work, "edge", "2.0")], env());
    const versions = async () =>
      [...(await (await served(repo, "dists/stable/main/binary-amd64/Packages")).text()).matchAll(/^Version: (.+)$/gm)]
        .map((m) => m[1])
        .sort();

    // D1 refuses to move this repository's pointer, as during an outage: the release activates in
    // the repository, but the edge keeps serving r1.
    const trigger = `pointer_down_${repo.replace(/\W/g, "_")}`;
    await stack.d1(
      `CREATE TRIGGER ${trigger} BEFORE UPDATE OF active_release ON repositories WHEN NEW.id = '${repo}'
       BEGIN SELECT RAISE(ABORT, 'D1 is down (test)'); END`,
    );
    try {
      const pending = await publish("--wait", "2");
      expect(pending.code, pending.stderr).toBe(3);
      expect(pending.stdout).toBe("");
      expect(pending.stderr).toContain(`error: release r2 is active in ${repo}, but the edge still serves r1`);
      expect(pending.stderr).toContain("retries the pointer on its own");
      expect(pending.stderr).toContain(`armor release activate r2 --repository ${repo}`);
      expect(await versions()).toEqual(["1.0"]);
      // Nor does a second publish take the release it finds active for done.
      const again = await publish("--wait", "0", "--json");
      expect(again.code).toBe(3);
      expect(JSON.parse(again.stdout)).toMatchObject({ error: { code: "activation_pending" } });
      const activate = await armor(["release", "activate", "--repository", repo, "r2", "--wait", "0"], env());
      expect(activate.code).toBe(3);
      expect(await versions()).toEqual(["1.0"]);
    } finally {
      await stack.d1(`DROP TRIGGER ${trigger}`);
    }

    const activated = await armor(["release", "activate", "--repository", repo, "r2"], env());
    expect(activated.code, activated.stderr).toBe(0);
    expect(activated.stdout).toBe("release r2 is active (was r1)\n");
    expect(await versions()).toEqual(["1.0", "2.0"]);
    const done = await publish();
    expect(done.code).toBe(0);
    expect(done.stdout).toBe("nothing to publish: release r2, which the edge serves, already holds every change\n");
  });

  it("adds many small files in batches and one above the batch limit alone; a rerun sends nothing", async ({
    expect,
  }) => {
    const repo = await newRepo();
    const small = Array.from({ length: 12 }, (_, i) => writeDeb(work, `many${i}`, "1.0"));
    const large = join(work, "large_1.0_amd64.deb");
    writeFileSync(
      large,
      buildDeb({
        fields: [
          { name: "Package", value: "large" },
          { name: "Version", value: "1.0" },
          { name: "Architecture", value: "amd64" },
          { name: "Maintainer", value: "Armor Tests <tests@armor.invalid>" },
          { name: "Description", value: "a package above the batch limit" },
        ],
        // Incompressible, so the .deb stays above the limit.
        files: [{ path: "/usr/share/large/blob", data: randomBytes(BATCH_FILE_LIMIT + 1024) }],
      }),
    );
    const files = [...small.slice(0, 6), large, ...small.slice(6)];
    const add = await armor(["pkgs", "add", "--repository", repo, "--dist", "stable", "--json", ...files], env());
    expect(add.code, add.stderr).toBe(0);
    const result = JSON.parse(add.stdout) as {
      files: { file: string; name: string; status: string; size: number }[];
      added: unknown[];
    };
    expect(result.files.map((f) => [f.file, f.status])).toEqual(files.map((f) => [f, "uploaded"]));
    expect(result.files[6]).toMatchObject({ name: "large", size: statSync(large).size });
    expect(result.added).toHaveLength(13);
    const listed = JSON.parse((await armor(["pkgs", "list", "--repository", repo, "--json"], env())).stdout) as {
      packages: { name: string }[];
    };
    expect(listed.packages.map((p) => p.name).sort()).toEqual(["large", ...small.map((_, i) => `many${i}`)].sort());

    const again = await armor(["pkgs", "add", "--repository", repo, "--dist", "stable", ...files], env());
    expect(again.code, again.stderr).toBe(0);
    for (const f of files) expect(again.stderr).toContain(`already uploaded: ${basename(f)}`);
    expect(again.stderr).not.toMatch(/^uploaded:/m);
    expect(again.stdout).toContain("nothing changed");
  }, 60_000);

  it("records a revoked key with key add, says so, and gpg sees the revocation in the archive keyring", async ({
    expect,
  }) => {
    const repo = await newRepo();
    const revokedFile = join(work, "revoked.pub.asc");
    writeFileSync(revokedFile, inject("keys").revoked.public);
    const { fingerprint } = inject("keys").revoked;
    const added = await armor(["key", "add", "--repository", repo, revokedFile], env());
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toMatch(
      new RegExp(`^revoked ${fingerprint}.*: this repository no longer accepts its signatures`),
    );
    const listed = await armor(["key", "list", "--repository", repo], env());
    expect(listed.stdout).toMatch(new RegExp(`^${fingerprint}  revoked \\d{4}-`, "m"));
    expect(listed.stdout).toMatch(new RegExp(`^${inject("keys").trusted.fingerprint}  trusted `, "m"));

    const keyring = join(work, `${n}-archive-keyring.gpg`);
    writeFileSync(keyring, Buffer.from(await (await served(repo, "archive-keyring.gpg")).arrayBuffer()));
    const home = mkdtempSync(join(tmpdir(), "armor-gpg-"));
    try {
      const shown = spawnSync("gpg", ["--homedir", home, "--batch", "--show-keys", "--with-colons", keyring]);
      expect(shown.status, shown.stderr.toString()).toBe(0);
      // Field 2 of a pub line is the key's validity: "r" for revoked.
      const validity = shown.stdout
        .toString()
        .split("\n")
        .filter((l) => l.startsWith("pub:"))
        .map((l) => [l.split(":")[4], l.split(":")[1]]);
      expect(validity).toEqual([
        [inject("keys").trusted.fingerprint.slice(-16), "-"],
        [fingerprint.slice(-16), "r"],
      ]);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
    const built = await armor(["keyring", "build", "--repository", repo, "--output", work, "--json"], env());
    expect(built.code, built.stderr).toBe(0);
    expect(JSON.parse(built.stdout)).toMatchObject({ keys: 1, omitted: [fingerprint] });
  });

  it("builds a keyring package whose version grows with every change of the key set, with the right count", async ({
    expect,
  }) => {
    const repo = await newRepo();
    const build = async () => {
      const out = mkdtempSync(join(work, "ring-"));
      const r = await armor(["keyring", "build", "--repository", repo, "--output", out, "--json"], env());
      expect(r.code, r.stderr).toBe(0);
      const built = JSON.parse(r.stdout) as { file: string; keys: number };
      const version = basename(built.file).split("_")[1] ?? "";
      return {
        ...built,
        version,
        text: (await armor(["keyring", "build", "--repository", repo, "--output", out], env())).stdout,
      };
    };
    const first = await build();
    expect(first.keys).toBe(1);
    expect(first.text).toContain("(1 key)");
    expect(first.version).toMatch(/^\d{4}\.\d{2}\.\d{2}\.\d{6}$/);
    // Nothing changed: the same version, so publishing it again is idempotent.
    expect((await build()).version).toBe(first.version);

    const other = join(work, `${n}-other.pub.asc`);
    writeFileSync(other, inject("keys").untrusted.public);
    expect((await armor(["key", "add", "--repository", repo, other], env())).code).toBe(0);
    const second = await build();
    expect(second.keys).toBe(2);
    expect(second.text).toContain("(2 keys)");
    const removed = await armor(["key", "remove", "--repository", repo, inject("keys").untrusted.fingerprint], env());
    expect(removed.code, removed.stderr).toBe(0);
    const third = await build();
    expect(third.keys).toBe(1);
    for (const [older, newer] of [
      [first.version, second.version],
      [second.version, third.version],
    ]) {
      const compared = spawnSync("dpkg", ["--compare-versions", newer ?? "", "gt", older ?? ""]);
      expect(compared.status, `${newer} > ${older}`).toBe(0);
    }
    // Each is a new package version the repository accepts.
    for (const b of [first, second, third])
      expect((await armor(["pkgs", "add", "--repository", repo, "--dist", "stable", b.file], env())).code).toBe(0);
  });

  it("adds and publishes in one command with publish --add", async ({ expect }) => {
    const repo = await newRepo();
    const files = [writeDeb(work, "one-step", "1.0"), writeDeb(work, "one-step-doc", "1.0", "all")];
    const r = await armor(
      [
        "publish",
        "--repository",
        repo,
        "--dist",
        "stable",
        "testing",
        "--add",
        ...files,
        "--key-file",
        keyFile,
        "--json",
      ],
      env(),
    );
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ published: true, active_release: "r1" });
    for (const dist of ["stable", "testing"]) {
      const packages = await (await served(repo, `dists/${dist}/main/binary-amd64/Packages`)).text();
      expect(packageNames(packages)).toEqual(["one-step", "one-step-doc"]);
    }
    // Again with nothing new: nothing uploaded, nothing to publish, success.
    const again = await armor(
      ["publish", "--repository", repo, "--dist", "stable", "--add", ...files, "--key-file", keyFile],
      env(),
    );
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain("nothing to publish");
  });

  it("says there is nothing to publish in a repository with no release at all, and how to start", async ({
    expect,
  }) => {
    const repo = await newRepo();
    const r = await armor(["publish", "--repository", repo, "--dist", "stable", "--key-file", keyFile], env());
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`nothing to publish: ${repo} has no release yet, and no packages added`);
    expect(r.stderr).toContain(`armor pkgs add --repository ${repo} --dist stable`);
  });

  it("prints machine-readable results and errors with --json", async ({ expect }) => {
    const repo = await newRepo();
    await armor(["pkgs", "add", "--repository", repo, "--dist", "stable", writeDeb(work, "jsonpkg", "1.0")], env());
    const listed = await armor(["pkgs", "list", "--repository", repo, "--json"], env());
    expect(JSON.parse(listed.stdout)).toMatchObject({
      release: "r1",
      packages: [{ name: "jsonpkg", version: "1.0", architecture: "amd64", dist: "stable", component: "main" }],
    });
    const missing = await armor(["release", "show", "--repository", repo, "r9", "--json"], env());
    expect(missing.code).toBe(1);
    expect(JSON.parse(missing.stdout)).toEqual({
      error: { code: "release_not_found", message: `no release r9 in this repository`, details: { status: 404 } },
    });
  });
});

describe("a repository named by its hostname", () => {
  it("adds, publishes, lists and shows by hostname, from the flag, the environment and the config file", async ({
    expect,
  }) => {
    n += 1;
    const id = `acme/cli-host-${n}`;
    const host = `apt.cli-host-${n}.example`;
    expect((await armor(["repo", "create", id, "--hostname", host], env())).code).toBe(0);
    const key = await armor(["key", "add", "--repository", host, publicKeyFile], env());
    expect(key.code, key.stderr).toBe(0);
    const deb = writeDeb(work, "by-host", "1.0");
    const add = await armor(
      ["pkgs", "add", "--repository", host, "--dist", "bookworm", "--component", "main", deb],
      env(),
    );
    expect(add.code, add.stderr).toBe(0);
    const published = await armor(
      ["publish", "--dist", "bookworm", "--key-file", keyFile],
      env({ ARMOR_REPOSITORY: host }),
    );
    expect(published.code, published.stderr).toBe(0);
    const xdg = mkdtempSync(join(work, "xdg-host-"));
    const { mkdirSync } = await import("node:fs");
    mkdirSync(join(xdg, "armor"));
    writeFileSync(join(xdg, "armor", "config.toml"), `repository = "${host.toUpperCase()}"\n`);
    const listed = await armor(["pkgs", "list", "--json"], env({ XDG_CONFIG_HOME: xdg }));
    expect(listed.code, listed.stderr).toBe(0);
    expect(JSON.parse(listed.stdout)).toMatchObject({ packages: [{ name: "by-host", version: "1.0" }] });
    const shown = await armor(["repo", "show", host, "--json"], env());
    expect(JSON.parse(shown.stdout)).toMatchObject({ id, active_release: "r1", hostnames: [host] });
    const ring = await armor(["keyring", "build", "--repository", host, "--output", work], env());
    expect(ring.code, ring.stderr).toBe(0);
    expect((await served(id, "dists/bookworm/InRelease")).status).toBe(200);
  });

  it("says when no repository has the hostname, and refuses a malformed name with exit code 2", async ({ expect }) => {
    const unknown = await armor(["pkgs", "list", "--repository", "apt.nobody-here.example"], env());
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("apt.nobody-here.example");
    expect(unknown.stderr).toContain("unknown_host");
    const malformed = await armor(["pkgs", "list", "--repository", "Not A Repo"], env());
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toContain('--repository "Not A Repo" must be "owner/name"');
  });
});

describe("the bundled CLI", () => {
  it("runs as one file on Node 22 with nothing beside it", async ({ expect }) => {
    const root = new URL("../../", import.meta.url).pathname;
    const build = spawnSync("npm", ["run", "--silent", "build:cli"], { cwd: root, encoding: "utf8" });
    expect(build.status, build.stderr).toBe(0);
    const alone = mkdtempSync(join(work, "bundle-"));
    copyFileSync(join(root, "dist", "armor.mjs"), join(alone, "armor.mjs"));
    const run = spawnSync(process.execPath, [join(alone, "armor.mjs"), "repo", "list", "--json"], {
      cwd: alone,
      encoding: "utf8",
      env: { PATH: process.env.PATH, HOME: alone, ARMOR_ENDPOINT: stack.endpoint, ARMOR_TOKEN: stack.token },
    });
    expect(run.status, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toHaveProperty("repositories");
  });
});

describe("armor's errors", () => {
  it("refuses bad flags with usage exit code 2", async ({ expect }) => {
    const r = await armor(["pkgs", "add", "--dist", "stable", "--bogus", "x.deb"], env());
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown option '--bogus'");
    const dist = await armor(["pkgs", "add", "--repository", "acme/x", "--dist", "Bad Dist", "x.deb"], env());
    expect(dist.code).toBe(2);
    expect(dist.stderr).toContain('--dist "Bad Dist" must be lowercase');
  });

  it("names a missing file, and refuses a file that is not a package", async ({ expect }) => {
    const repo = await newRepo();
    const missing = await armor(
      ["pkgs", "add", "--repository", repo, "--dist", "stable", join(work, "nope.deb")],
      env(),
    );
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(`error: cannot read ${join(work, "nope.deb")}: no such file\nhint: check the path\n`);
    const text = join(work, "notes.deb");
    writeFileSync(text, "this is not a Debian package\n");
    const bad = await armor(["pkgs", "add", "--repository", repo, "--dist", "stable", text], env());
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("error: notes.deb: not a valid Debian package");
    expect(bad.stderr).toContain("(invalid_package, HTTP 400)");
  });

  it("refuses a batch with one broken package, names it, and stores none of the batch", async ({ expect }) => {
    const repo = await newRepo();
    const good = [writeDeb(work, "good-a", "1.0"), writeDeb(work, "good-b", "1.0")];
    const broken = join(work, "broken_1.0_amd64.deb");
    writeFileSync(broken, "!<arch>\nnot really\n");
    const r = await armor(
      ["pkgs", "add", "--repository", repo, "--dist", "stable", good[0] ?? "", broken, good[1] ?? ""],
      env(),
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("error: broken_1.0_amd64.deb: not a valid Debian package");
    expect(r.stderr).toContain("(invalid_package, HTTP 400)");
    // Nothing of the refused batch was kept: the good files are uploaded anew.
    const retry = await armor(["pkgs", "add", "--repository", repo, "--dist", "stable", ...good], env());
    expect(retry.code, retry.stderr).toBe(0);
    for (const f of good) expect(retry.stderr).toContain(`uploaded: ${basename(f)}`);
    expect(retry.stderr).not.toContain("already uploaded");
  });

  it("reports a signature by a key the repository does not trust", async ({ expect }) => {
    const repo = await newRepo();
    await armor(["pkgs", "add", "--repository", repo, "--dist", "stable", writeDeb(work, "wrongkey", "1.0")], env());
    const other = join(work, "untrusted.sec.asc");
    writeFileSync(other, inject("keys").untrusted.secret);
    const r = await armor(["publish", "--repository", repo, "--dist", "stable", "--key-file", other], env());
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("(untrusted_key, HTTP 422)");
    expect(r.stderr).toContain("or add yours with `armor key add");
  });

  it("reports a wrong passphrase", async ({ expect }) => {
    const openpgp = await import("openpgp");
    const key = await openpgp.readPrivateKey({ armoredKey: inject("keys").trusted.secret });
    const locked = await openpgp.encryptKey({ privateKey: key, passphrase: "correct horse" });
    const lockedFile = join(work, "locked.sec.asc");
    writeFileSync(lockedFile, locked.armor());
    const unsigned = join(work, "for-passphrase.toml");
    const repo = await newRepo();
    await armor(["pkgs", "add", "--repository", repo, "--dist", "stable", writeDeb(work, "locked", "1.0")], env());
    writeFileSync(
      unsigned,
      (await armor(["index", "generate", "--repository", repo, "--dist", "stable"], env())).stdout,
    );
    const wrong = await armor(
      ["index", "sign", "--key-file", lockedFile, unsigned],
      env({ ARMOR_SIGNING_PASSPHRASE: "wrong" }),
    );
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/^error: .*passphrase/);
    const right = await armor(
      ["index", "sign", "--key-file", lockedFile, unsigned],
      env({ ARMOR_SIGNING_PASSPHRASE: "correct horse" }),
    );
    expect(right.code).toBe(0);
  });

  it("says when the endpoint cannot be reached, with exit code 3", async ({ expect }) => {
    const r = await armor(
      ["release", "list", "--repository", "acme/x"],
      env({ ARMOR_ENDPOINT: "http://127.0.0.1:59999" }),
    );
    expect(r.code).toBe(3);
    // Each retry is said before its wait, then the failure.
    expect(r.stderr).toMatch(
      /^armor: http:\/\/127\.0\.0\.1:59999 did not answer \(ECONNREFUSED.*\); retrying in \d+\.\d s \(attempt 2 of 4\)$/m,
    );
    expect(r.stderr).toMatch(/^error: cannot reach http:\/\/127\.0\.0\.1:59999: ECONNREFUSED/m);
    expect(r.stderr).toContain("hint: check --endpoint / ARMOR_ENDPOINT and your network");
  });

  it("names the config file line to fix", async ({ expect }) => {
    const dir = mkdtempSync(join(work, "xdg-"));
    const { mkdirSync } = await import("node:fs");
    mkdirSync(join(dir, "armor"));
    writeFileSync(join(dir, "armor", "config.toml"), '# mine\nendpoint = "not a url"\ntoken = "x"\n');
    const r = await armor(["release", "list", "--repository", "acme/x"], { XDG_CONFIG_HOME: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${join(dir, "armor", "config.toml")} line 2: endpoint must be a URL`);
  });

  it("stores the endpoint and token with armor login", async ({ expect }) => {
    const dir = mkdtempSync(join(work, "login-"));
    const r = await armor(
      ["login", "--endpoint", stack.endpoint, "--with-token"],
      { XDG_CONFIG_HOME: dir },
      `${stack.token}\n`,
    );
    expect(r.code, r.stderr).toBe(0);
    const config = readFileSync(join(dir, "armor", "config.toml"), "utf8");
    expect(config).toContain(`endpoint = "${stack.endpoint}"`);
    const list = await armor(["repo", "list", "--json"], { XDG_CONFIG_HOME: dir });
    expect(list.code).toBe(0);
    expect(JSON.parse(list.stdout)).toHaveProperty("repositories");
  });
});
