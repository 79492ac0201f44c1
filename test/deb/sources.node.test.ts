/**
 * Source packages built by dpkg-source (1.0, 3.0 (quilt), 3.0 (native)): deb/ parses their .dsc,
 * and its Sources stanza equals what apt-ftparchive writes for the same files.
 */
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, it } from "vitest";
import { parseChanges, parseDsc } from "../../deb/dsc.ts";
import { renderSourceStanza, type SourceFile } from "../../deb/sources.ts";
import { buildSource, run } from "../helpers/source-packages.ts";

let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), "armor-sources-"));
});
afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

function stored(path: string, name: string): SourceFile {
  const bytes = readFileSync(path);
  const h = (a: string) => createHash(a).update(bytes).digest("hex");
  return { name, size: statSync(path).size, md5: h("md5"), sha1: h("sha1"), sha256: h("sha256"), sha512: h("sha512") };
}

describe("source packages", () => {
  it.for([
    ["hello", "1.0-1", "3.0 (quilt)"],
    ["oldstyle", "2.1-3", "1.0"],
    ["native-tool", "0.9", "3.0 (native)"],
  ])(
    "parses a %s %s .dsc (%s), and renders its Sources stanza as apt-ftparchive does",
    ([name = "", version = "", format = ""], { expect }) => {
      const { dir, dsc } = buildSource(work, name, version, format);
      const parsed = parseDsc(readFileSync(join(dir, dsc)));
      if (!parsed.ok) throw new Error(parsed.error.message);
      expect(parsed.value).toMatchObject({ source: name, version, format, signature: null });
      expect(parsed.value.files.length).toBeGreaterThan(0);
      for (const f of parsed.value.files)
        expect(stored(join(dir, f.name), f.name)).toMatchObject({ size: f.size, md5: f.md5, sha256: f.sha256 });

      const pool = join(dir, "pool");
      mkdirSync(pool);
      for (const f of [dsc, ...parsed.value.files.map((x) => x.name)])
        writeFileSync(join(pool, f), readFileSync(join(dir, f)));
      const expected = run("apt-ftparchive", ["sources", "pool"], dir);
      const rendered = renderSourceStanza({
        fields: parsed.value.fields,
        directory: "pool",
        dsc: stored(join(dir, dsc), dsc),
        files: parsed.value.files.map((f) => stored(join(dir, f.name), f.name)),
      });
      expect(`${rendered}\n`).toBe(expected);
    },
  );

  it("reads a clearsigned .dsc through its armor, and keeps the signature", ({ expect }) => {
    const { dir, dsc } = buildSource(work, "signed-src", "1.0-1", "3.0 (quilt)");
    const text = readFileSync(join(dir, dsc), "utf8");
    const signed = `-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\n${text.replace(/^-/gm, "- -")}\n-----BEGIN PGP SIGNATURE-----\n\niHUEARYKAB0WIQ==\n=abcd\n-----END PGP SIGNATURE-----\n`;
    const parsed = parseDsc(new TextEncoder().encode(signed));
    if (!parsed.ok) throw new Error(parsed.error.message);
    const plain = parseDsc(new TextEncoder().encode(text));
    if (!plain.ok) throw new Error(plain.error.message);
    expect(parsed.value.fields).toEqual(plain.value.fields);
    expect(parsed.value.signature).toContain("-----BEGIN PGP SIGNATURE-----");
  });

  it("parses the .changes dpkg-genchanges writes for a source upload", ({ expect }) => {
    const { dir } = buildSource(work, "changed", "1.0-1", "3.0 (quilt)");
    const tree = join(dir, "changed-1.0");
    const changes = run("dpkg-genchanges", ["-S"], tree);
    const parsed = parseChanges(new TextEncoder().encode(changes));
    if (!parsed.ok) throw new Error(parsed.error.message);
    expect(parsed.value.source).toBe("changed");
    expect(parsed.value.files.map((f) => f.name).sort()).toEqual(
      ["changed_1.0-1.debian.tar.xz", "changed_1.0-1.dsc", "changed_1.0.orig.tar.gz"].sort(),
    );
  });
});

describe("hostile .dsc files are refused with a code", () => {
  const base = (files: string) =>
    `Format: 3.0 (quilt)\nSource: hello\nVersion: 1.0-1\nChecksums-Sha256:\n ${"a".repeat(64)} 10 ${files}\nFiles:\n ${"b".repeat(32)} 10 ${files}\n`;
  it.for([
    ["a path in a file name", base("../etc/passwd"), "bad_file_name"],
    ["an absolute path", base("/etc/passwd"), "bad_file_name"],
    ["a subdirectory", base("sub/hello.tar.gz"), "bad_file_name"],
    ["two stanzas", `${base("hello.tar.gz")}\nSource: other\n`, "multiple_paragraphs"],
    ["a carriage return", base("hello.tar.gz").replace("Version: 1.0-1", "Version: 1.0-1\r"), "forbidden_character"],
    ["a bad source name", base("hello.tar.gz").replace("Source: hello", "Source: Hello_World"), "bad_package_name"],
    ["a bad version", base("hello.tar.gz").replace("Version: 1.0-1", "Version: 1.0 beta"), "bad_version"],
    [
      "an unknown Format",
      base("hello.tar.gz").replace("Format: 3.0 (quilt)", "Format: 3.0 (git)"),
      "unknown_source_format",
    ],
    [
      "lists that disagree",
      base("hello.tar.gz").replace(" 10 hello.tar.gz\nFiles", " 11 hello.tar.gz\nFiles"),
      "checksum_lists_differ",
    ],
    ["a file listed twice", base("hello.tar.gz").replace(/(Files:\n)(.*)\n$/, "$1$2\n$2\n"), "bad_file_list"],
    [
      "no checksums",
      `Format: 1.0\nSource: hello\nVersion: 1.0\nFiles:\n ${"b".repeat(32)} 1 x.tar.gz\n`,
      "missing_field",
    ],
    ["a Directory of its own", `${base("hello.tar.gz")}Directory: /etc\n`, "reserved_field"],
    ["an oversized .dsc", `${base("hello.tar.gz")}X-Pad: ${"x".repeat(300 * 1024)}\n`, "dsc_too_large"],
    [
      "text after the signature",
      "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\n" +
        base("h.tar.gz") +
        "-----BEGIN PGP SIGNATURE-----\nx\n-----END PGP SIGNATURE-----\nSource: evil\n",
      "bad_signed_message",
    ],
  ])("refuses %s", ([, text = "", code = ""], { expect }) => {
    const parsed = parseDsc(new TextEncoder().encode(text));
    expect(parsed.ok ? "accepted" : parsed.error.code).toBe(code);
  });
});
