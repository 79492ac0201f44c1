import { gunzipSync } from "node:zlib";
import * as openpgp from "openpgp";
import { describe, inject, it } from "vitest";
import { hashBytes } from "../../deb/hash.ts";
import {
  apt,
  bytesOf,
  call,
  createRepo,
  generate,
  json,
  makeDeb,
  publish,
  push,
  sha256Hex,
  uniqueRepo,
} from "../helpers/armor.ts";

/** The checksum lines of a Release file: path → {size, md5, sha256, sha512}. */
function releaseFiles(text: string): Map<string, { size: number; md5?: string; sha256?: string; sha512?: string }> {
  const files = new Map<string, { size: number; md5?: string; sha256?: string; sha512?: string }>();
  let section: "md5" | "sha256" | "sha512" | null = null;
  for (const line of text.split("\n")) {
    if (line === "MD5Sum:") section = "md5";
    else if (line === "SHA256:") section = "sha256";
    else if (line === "SHA512:") section = "sha512";
    else if (line.startsWith(" ") && section) {
      const [hash = "", size = "", path = ""] = line.trim().split(/\s+/);
      const entry = files.get(path) ?? { size: Number(size) };
      entry[section] = hash;
      files.set(path, entry);
    } else section = null;
  }
  return files;
}

function field(text: string, name: string): string | undefined {
  return text
    .split("\n")
    .find((l) => l.startsWith(`${name}: `))
    ?.slice(name.length + 2);
}

/** Split a Packages file into stanzas keyed by "name version arch". */
function stanzas(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const s of text.split("\n\n").filter((x) => x.trim() !== "")) {
    out.set(`${field(s, "Package")} ${field(s, "Version")} ${field(s, "Architecture")}`, s);
  }
  return out;
}

describe("publishing through the HTTP API", () => {
  it("uploads into two dists and architectures, publishes signed indexes and serves them as apt expects", async ({
    expect,
  }) => {
    const repo = uniqueRepo("flow");
    await createRepo(repo);
    const hello = makeDeb("hello", "1.0-1", "amd64");
    const helloArm = makeDeb("hello", "1.0-1", "arm64");
    const docs = makeDeb("hello-doc", "1.0-1", "all");
    const libfoo = makeDeb("libfoo1", "2:3.1-2", "amd64", { Source: "libfoo (3.1-2)" });
    const tool = makeDeb("tool", "0.9", "amd64");
    await push(repo, "stable", "main", [hello, helloArm, docs, libfoo]);
    await push(repo, "testing", "main", [tool, docs]);
    await push(repo, "testing", "contrib", [helloArm]);

    const published = await publish(repo, ["stable", "testing"]);
    expect(published).toMatchObject({ activated: true, unsigned_dists: [] });

    for (const [dist, expected] of [
      [
        "stable",
        {
          "main/binary-amd64": ["hello 1.0-1 amd64", "hello-doc 1.0-1 all", "libfoo1 2:3.1-2 amd64"],
          "main/binary-arm64": ["hello 1.0-1 arm64", "hello-doc 1.0-1 all"],
        },
      ],
      [
        "testing",
        {
          "contrib/binary-amd64": [],
          "contrib/binary-arm64": ["hello 1.0-1 arm64"],
          "main/binary-amd64": ["hello-doc 1.0-1 all", "tool 0.9 amd64"],
          "main/binary-arm64": ["hello-doc 1.0-1 all"],
        },
      ],
    ] as const) {
      const inRelease = await apt(repo, `dists/${dist}/InRelease`);
      expect(inRelease.status).toBe(200);
      expect(inRelease.headers.get("cache-control")).toBe("max-age=1800, proxy-revalidate");
      expect(inRelease.headers.get("vary")).toBe("Authorization");
      const clearsigned = await inRelease.text();
      const verified = await openpgp.verify({
        message: await openpgp.readCleartextMessage({ cleartextMessage: clearsigned }),
        verificationKeys: await openpgp.readKey({ armoredKey: inject("keys").trusted.public }),
        expectSigned: true,
      });
      const releaseRes = await apt(repo, `dists/${dist}/Release`);
      const release = await releaseRes.text();
      expect(verified.data).toBe(release.replace(/\n$/, ""));
      const gpg = await apt(repo, `dists/${dist}/Release.gpg`);
      expect(gpg.status).toBe(200);
      await openpgp.verify({
        message: await openpgp.createMessage({ binary: new TextEncoder().encode(release) }),
        signature: await openpgp.readSignature({ armoredSignature: await gpg.text() }),
        verificationKeys: await openpgp.readKey({ armoredKey: inject("keys").trusted.public }),
        expectSigned: true,
      });

      expect(field(release, "Suite")).toBe(dist);
      expect(field(release, "Acquire-By-Hash")).toBe("yes");
      expect(field(release, "Snapshots")).toBe(`http://localhost/${repo}/@SNAPSHOTID@/`);
      expect(field(release, "Architectures")).toBe("amd64 arm64");
      const files = releaseFiles(release);
      expect([...files.keys()].sort()).toEqual(
        Object.keys(expected)
          .flatMap((dir) => [`${dir}/Packages`, `${dir}/Packages.gz`])
          .sort(),
      );
      for (const [path, listed] of files) {
        const res = await apt(repo, `dists/${dist}/${path}`);
        expect(res.status, path).toBe(200);
        expect(res.headers.get("etag")).toBe(`"${listed.sha256}"`);
        const bytes = await bytesOf(res);
        const h = hashBytes(bytes);
        expect({ size: h.size, md5: h.md5, sha256: h.sha256, sha512: h.sha512 }).toEqual(listed);
        const dir = path.slice(0, path.lastIndexOf("/"));
        for (const [algo, hex] of [
          ["SHA256", listed.sha256],
          ["SHA512", listed.sha512],
          ["MD5Sum", listed.md5],
        ] as const) {
          const byHash = await apt(repo, `dists/${dist}/${dir}/by-hash/${algo}/${hex}`);
          expect(byHash.status, `${path} by ${algo}`).toBe(200);
          expect(byHash.headers.get("cache-control")).toBe("max-age=31536000, immutable");
          expect(sha256Hex(await bytesOf(byHash))).toBe(listed.sha256);
        }
      }
      for (const [dir, members] of Object.entries(expected)) {
        const plain = new TextDecoder().decode(await bytesOf(await apt(repo, `dists/${dist}/${dir}/Packages`)));
        const gz = gunzipSync(await bytesOf(await apt(repo, `dists/${dist}/${dir}/Packages.gz`))).toString("utf8");
        expect(gz).toBe(plain);
        const listed = stanzas(plain);
        expect([...listed.keys()].sort()).toEqual([...members].sort());
        for (const stanza of listed.values()) {
          const filename = field(stanza, "Filename") ?? "";
          const pool = await apt(repo, filename);
          expect(pool.status, filename).toBe(200);
          expect(pool.headers.get("content-type")).toBe("application/vnd.debian.binary-package");
          expect(pool.headers.get("cache-control")).toBe("max-age=31536000, immutable");
          const bytes = await bytesOf(pool);
          const h = hashBytes(bytes);
          expect(String(h.size)).toBe(field(stanza, "Size"));
          expect(h.md5).toBe(field(stanza, "MD5sum"));
          expect(h.sha256).toBe(field(stanza, "SHA256"));
        }
      }
    }
    const libStanza = stanzas(
      new TextDecoder().decode(await bytesOf(await apt(repo, "dists/stable/main/binary-amd64/Packages"))),
    ).get("libfoo1 2:3.1-2 amd64");
    expect(field(libStanza ?? "", "Filename")).toBe("pool/main/libf/libfoo/libfoo1_3.1-2_amd64.deb");
  });

  it("serves a configured hostname at / and refuses hosts nobody configured", async ({ expect }) => {
    const repo = uniqueRepo("host");
    await createRepo(repo, { hostnames: ["apt.host-test.example"] });
    await push(repo, "stable", "main", [makeDeb("hello", "1.0", "amd64")]);
    await publish(repo, ["stable"]);
    const viaHost = await call("/dists/stable/Release", { host: "apt.host-test.example", auth: null });
    expect(viaHost.status).toBe(200);
    const viaPath = await apt(repo, "dists/stable/Release");
    expect(await viaHost.text()).toBe(await viaPath.text());
    expect(
      field(await (await call("/dists/stable/Release", { host: "APT.HOST-TEST.EXAMPLE", auth: null })).text(), "Suite"),
    ).toBe("stable");

    const unknown = await call("/dists/stable/Release", { host: "apt.nobody.example", auth: null });
    expect(unknown.status).toBe(404);
    expect(await json(unknown)).toEqual({
      error: { code: "unknown_host", message: "apt.nobody.example is not a repository served by Armor" },
    });
    // The API is not served on repository hostnames.
    const api = await call(`/api/v1/repositories/${repo}/releases`, { host: "apt.host-test.example", auth: null });
    expect(api.status).toBe(404);
    // A public read ignores whatever credentials come with it, over plain HTTP too (apt sends a
    // global auth.conf entry's; proxies add their own).
    const withCredentials = await call("/dists/stable/Release", { host: "apt.host-test.example" });
    expect(withCredentials.status).toBe(200);
    expect(await withCredentials.text()).toBe(await (await apt(repo, "dists/stable/Release")).text());
    const basic = await call("/dists/stable/Release", {
      host: "apt.host-test.example",
      auth: null,
      headers: { authorization: `Basic ${btoa("someone:not-a-token")}` },
    });
    expect(basic.status).toBe(200);
    // Other methods are not apt's: 405 with Allow, on the hostname and by path.
    for (const res of [
      await call("/dists/stable/Release", { host: "apt.host-test.example", auth: null, method: "POST" }),
      await call(`/${repo}/dists/stable/Release`, { auth: null, method: "DELETE" }),
    ]) {
      expect(res.status).toBe(405);
      expect(res.headers.get("allow")).toBe("GET, HEAD");
      expect(await json(res)).toMatchObject({ error: { code: "method_not_allowed" } });
    }
  });

  it("refuses credentials in cleartext for a private repository anywhere but on loopback", async ({ expect }) => {
    const repo = uniqueRepo("cleartext");
    await createRepo(repo, { hostnames: ["apt.cleartext-test.example"], visibility: "private" });
    await push(repo, "stable", "main", [makeDeb("hello", "1.0", "amd64")]);
    await publish(repo, ["stable"]);
    const cleartext = await call("/dists/stable/Release", { host: "apt.cleartext-test.example" });
    expect(cleartext.status).toBe(403);
    expect(await json(cleartext)).toMatchObject({
      error: { code: "forbidden", message: expect.stringContaining("HTTPS") },
    });
    expect((await call("/dists/stable/Release", { host: "apt.cleartext-test.example", auth: null })).status).toBe(401);
    // On loopback (the platform host in development), the same token reads it.
    expect((await call(`/${repo}/dists/stable/Release`)).status).toBe(200);
  });

  it("answers HEAD, ranges and conditional requests on served files, from the edge cache when hot", async ({
    expect,
  }) => {
    const repo = uniqueRepo("http");
    await createRepo(repo);
    const deb = makeDeb("hello", "1.0", "amd64");
    await push(repo, "stable", "main", [deb]);
    await publish(repo, ["stable"]);
    const path = "pool/main/h/hello/hello_1.0_amd64.deb";
    const full = await apt(repo, path);
    expect(full.status).toBe(200);
    expect(full.headers.get("content-length")).toBe(String(deb.size));
    expect(await bytesOf(full)).toEqual(deb.bytes);

    const head = await apt(repo, path, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("etag")).toBe(`"${deb.sha256}"`);
    expect(head.headers.get("content-length")).toBe(String(deb.size));
    expect(await head.text()).toBe("");

    const range = await apt(repo, path, { headers: { range: "bytes=8-67" } });
    expect(range.status).toBe(206);
    expect(range.headers.get("content-range")).toBe(`bytes 8-67/${deb.size}`);
    expect(await bytesOf(range)).toEqual(deb.bytes.slice(8, 68));

    const notModified = await apt(repo, path, { headers: { "if-none-match": `"${deb.sha256}"` } });
    expect(notModified.status).toBe(304);

    const again = await apt(repo, path);
    expect(again.headers.get("x-armor-cache")).toBe("hit");
    expect(await bytesOf(again)).toEqual(deb.bytes);
  });
});

describe("generate", () => {
  it("answers every caller of one generation with the same document, so racing publishers agree", async ({
    expect,
  }) => {
    const repo = uniqueRepo("same");
    await createRepo(repo);
    await push(repo, "stable", "main", [makeDeb("hello", "1.0", "amd64")]);
    const first = await generate(repo, "stable");
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const second = await generate(repo, "stable");
    expect(second.text).toBe(first.text);
    expect(second.regenerated).toEqual([]);
    expect(second.reused).toEqual(["main/binary-amd64"]);
    await push(repo, "stable", "main", [makeDeb("hello", "1.1", "amd64")]);
    const third = await generate(repo, "stable");
    expect(third.document.generation).toBe(first.document.generation + 1);
    expect(third.regenerated).toEqual(["main/binary-amd64"]);
  });

  it("regenerates only the indexes a change touched", async ({ expect }) => {
    const repo = uniqueRepo("incremental");
    await createRepo(repo);
    await push(repo, "stable", "main", [makeDeb("pkg-a", "1", "amd64"), makeDeb("pkg-b", "1", "arm64")]);
    await push(repo, "stable", "extra", [makeDeb("pkg-c", "1", "amd64")]);
    const first = await generate(repo, "stable");
    expect(first.regenerated.sort()).toEqual([
      "extra/binary-amd64",
      "extra/binary-arm64",
      "main/binary-amd64",
      "main/binary-arm64",
    ]);
    await publish(repo, ["stable"]);

    await push(repo, "stable", "main", [makeDeb("pkg-d", "1", "arm64")]);
    const second = await generate(repo, "stable");
    expect(second.regenerated).toEqual(["main/binary-arm64"]);
    expect(second.reused.sort()).toEqual(["extra/binary-amd64", "extra/binary-arm64", "main/binary-amd64"]);

    // An `all` package is in every architecture's index of its component, so it dirties them all.
    await push(repo, "stable", "main", [makeDeb("pkg-e", "1", "all")]);
    const third = await generate(repo, "stable");
    expect(third.regenerated.sort()).toEqual(["main/binary-amd64", "main/binary-arm64"]);

    const stats = await json<{ dirty: string[] }>(await call(`/admin/v1/repositories/${repo}/stats`));
    expect(stats.dirty).toEqual([]);
  });
});
