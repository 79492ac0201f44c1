import { describe, it } from "vitest";
import { controlField, parseControl, parseControlFile } from "../../deb/control.ts";

const BASE = "Package: demo\nVersion: 1.0-1\nArchitecture: amd64\n";

function code(text: string): string {
  const r = parseControl(text);
  return r.ok ? "accepted" : r.error.code;
}

describe("parseControl (Debian Policy §5)", () => {
  it("keeps fields in order with continuation lines verbatim", ({ expect }) => {
    const r = parseControl(
      `${BASE}Description: short\n long line\n .\n\tindented with a tab\nHomepage: https://x.invalid/\n`,
    );
    if (!r.ok) throw new Error(r.error.message);
    expect(r.value.fields.map((f) => f.name)).toEqual([
      "Package",
      "Version",
      "Architecture",
      "Description",
      "Homepage",
    ]);
    expect(controlField(r.value, "description")).toBe("short\n long line\n .\n\tindented with a tab");
    expect(r.value).toMatchObject({ package: "demo", version: "1.0-1", architecture: "amd64", source: "demo" });
  });

  it("reads Source with and without a version", ({ expect }) => {
    const plain = parseControl(`${BASE}Source: demo-src\n`);
    const binnmu = parseControl(`${BASE}Source: demo-src (1.0-1)\n`);
    expect(plain.ok && plain.value.source).toBe("demo-src");
    expect(binnmu.ok && [binnmu.value.source, binnmu.value.sourceVersion]).toEqual(["demo-src", "1.0-1"]);
    expect(code(`${BASE}Source: demo-src (not a version)\n`)).toBe("bad_source");
    expect(code(`${BASE}Source: demo-src (v1)\n`)).toBe("bad_version");
  });

  it("treats field names case-insensitively for duplicates and lookups", ({ expect }) => {
    expect(code(`${BASE}DEPENDS: a\ndepends: b\n`)).toBe("duplicate_field");
    expect(code(`${BASE}sha256: 00\n`)).toBe("reserved_field");
  });

  it("tolerates trailing blank lines but not a blank line inside", ({ expect }) => {
    expect(code(`${BASE}\n\n`)).toBe("accepted");
    expect(code(`Package: demo\n\nVersion: 1.0\nArchitecture: all\n`)).toBe("multiple_paragraphs");
  });

  it.for([
    ["a continuation before any field", " leading\n", "bad_field_syntax"],
    ["a field name starting with '-'", "-Foo: x\n", "bad_field_name"],
    ["a field name with non-ASCII", "Fé: x\n", "bad_field_name"],
    ["a tab-only continuation", "Description: x\n\t\n", "empty_continuation_line"],
    ["a vertical tab", "Description: x\vy\n", "forbidden_character"],
    ["DEL", "Description: x\u007f\n", "forbidden_character"],
    ["a multi-line Package", "", "bad_field_syntax"],
  ] as const)("refuses %s", ([, extra, expected], { expect }) => {
    const text =
      extra === ""
        ? "Package: demo\n more\nVersion: 1\nArchitecture: all\n"
        : extra.startsWith(" ")
          ? extra + BASE
          : BASE + extra;
    expect(code(text)).toBe(expected);
  });

  it.for([
    ["Package", "a", "bad_package_name"],
    ["Package", "-demo", "bad_package_name"],
    ["Architecture", "linux-any", "bad_architecture"],
    ["Architecture", "amd64 arm64", "bad_architecture"],
    ["Architecture", "AMD64", "bad_architecture"],
    ["Version", "", "missing_field"],
  ] as const)("refuses %s: %j", ([field, value, expected], { expect }) => {
    const text = BASE.replace(new RegExp(`^${field}: .*$`, "m"), `${field}: ${value}`);
    expect(code(text)).toBe(expected);
  });

  it("accepts real architecture names", ({ expect }) => {
    for (const arch of ["all", "amd64", "arm64", "armhf", "i386", "ppc64el", "riscv64", "s390x", "hurd-i386"]) {
      expect(code(BASE.replace("amd64", arch))).toBe("accepted");
    }
  });

  it("refuses a byte-order mark and invalid UTF-8 from bytes", ({ expect }) => {
    const bom = parseControlFile(new TextEncoder().encode(`\uFEFF${BASE}`));
    expect(bom.ok ? "accepted" : bom.error.code).toBe("bad_field_name");
    const latin1 = parseControlFile(new Uint8Array([...new TextEncoder().encode(BASE), 0x58, 0x3a, 0x20, 0xe9, 0x0a]));
    expect(latin1.ok ? "accepted" : latin1.error.code).toBe("not_utf8");
  });
});
