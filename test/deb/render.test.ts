import { describe, it } from "vitest";
import { hashBytes } from "../../deb/hash.ts";
import { type PackageEntry, renderPackages, renderStanza } from "../../deb/packages.ts";
import { releaseDate, renderRelease } from "../../deb/release.ts";

const entry = (name: string): PackageEntry => ({
  fields: [
    { name: "Package", value: name },
    { name: "Description", value: "demo\n long" },
    { name: "X-Extra", value: "last" },
    { name: "Version", value: "1.0" },
    { name: "Conffiles", value: "\n /etc/demo.conf 0123" },
    { name: "Architecture", value: "all" },
  ],
  filename: `pool/main/d/${name}/${name}_1.0_all.deb`,
  size: 1234,
  md5: "0".repeat(32),
  sha256: "f".repeat(64),
});

describe("Packages rendering", () => {
  it("orders fields as apt-ftparchive does and keeps unknown fields last", ({ expect }) => {
    expect(renderStanza(entry("demo"))).toBe(
      [
        "Package: demo",
        "Architecture: all",
        "Version: 1.0",
        "Conffiles:",
        " /etc/demo.conf 0123",
        "Filename: pool/main/d/demo/demo_1.0_all.deb",
        "Size: 1234",
        `MD5sum: ${"0".repeat(32)}`,
        `SHA256: ${"f".repeat(64)}`,
        "Description: demo",
        " long",
        "X-Extra: last",
        "",
      ].join("\n"),
    );
  });

  it("streams: stanzas are produced one at a time from an endless source", async ({ expect }) => {
    let produced = 0;
    function* endless(): Generator<PackageEntry> {
      for (;;) {
        produced++;
        yield entry(`pkg${produced}`);
      }
    }
    const out: string[] = [];
    for await (const chunk of renderPackages(endless())) {
      out.push(chunk);
      if (out.length === 3) break;
    }
    expect(produced).toBe(3);
    expect(out.every((s) => s.startsWith("Package: pkg") && s.endsWith("\n\n"))).toBe(true);
  });
});

describe("Release rendering", () => {
  const packages = new TextEncoder().encode("Package: demo\n\n");
  const h = hashBytes(packages);
  const base = {
    origin: "Armor",
    label: "acme/tools",
    suite: "stable",
    codename: "stable",
    date: new Date(Date.UTC(2026, 10, 22, 1, 2, 3)),
    architectures: ["amd64", "all"],
    components: ["main"],
    description: "acme tools",
    acquireByHash: true,
    snapshots: "https://apt.acme.invalid/@SNAPSHOTID@/",
    signedBy: ["0123456789ABCDEF0123456789ABCDEF01234567"],
    files: [
      { path: "main/binary-amd64/Packages", size: h.size, md5: h.md5, sha256: h.sha256 },
      { path: "main/binary-all/Packages", size: h.size, md5: h.md5, sha256: h.sha256 },
    ],
  };

  it("writes the fields apt reads, in order, and sorted checksum lists", ({ expect }) => {
    const text = renderRelease(base);
    expect(text).toBe(
      [
        "Origin: Armor",
        "Label: acme/tools",
        "Suite: stable",
        "Codename: stable",
        "Date: Sun, 22 Nov 2026 01:02:03 UTC",
        "Architectures: amd64 all",
        "Components: main",
        "Description: acme tools",
        "Acquire-By-Hash: yes",
        "Snapshots: https://apt.acme.invalid/@SNAPSHOTID@/",
        "Signed-By: 0123456789ABCDEF0123456789ABCDEF01234567",
        "MD5Sum:",
        ` ${h.md5}               15 main/binary-all/Packages`,
        ` ${h.md5}               15 main/binary-amd64/Packages`,
        "SHA256:",
        ` ${h.sha256}               15 main/binary-all/Packages`,
        ` ${h.sha256}               15 main/binary-amd64/Packages`,
        "",
      ].join("\n"),
    );
  });

  it("adds Valid-Until and SHA512 when given", ({ expect }) => {
    const text = renderRelease({
      ...base,
      validUntil: new Date(Date.UTC(2026, 11, 1)),
      files: [{ ...base.files[0], path: "main/binary-amd64/Packages", sha512: h.sha512 } as (typeof base.files)[0]],
    });
    expect(text).toContain("\nValid-Until: Tue, 01 Dec 2026 00:00:00 UTC\n");
    expect(text).toContain(`SHA512:\n ${h.sha512}               15 main/binary-amd64/Packages\n`);
    expect(releaseDate(new Date(0))).toBe("Thu, 01 Jan 1970 00:00:00 UTC");
  });

  it("leaves out Architectures and Components of an emptied dist, so no line ends in a space", ({ expect }) => {
    const text = renderRelease({ ...base, architectures: [], components: [], files: [] });
    expect(text).not.toMatch(/^(Architectures|Components):/m);
    expect(text).not.toMatch(/ $/m);
    expect(text).toContain("\nDescription: ");
  });

  it("refuses values that would inject a field", ({ expect }) => {
    expect(() => renderRelease({ ...base, description: "x\nSigned-By: EVIL" })).toThrow(/one line/);
  });
});
