import { describe, inject, it } from "vitest";
import { DEB_LIMITS, readDeb } from "../../deb/deb-reader.ts";
import { chunkedStream, fromBase64 } from "../helpers/bytes.ts";

const variants = inject("variants");

// What deb/ answers when dpkg-deb cannot read the control member: the data is not what its name
// says, the tar is cut short because dpkg stopped decoding, or nothing of it is left.
const REFUSALS = ["control_decompression_failed", "bad_tar", "missing_control_file"];

describe("readDeb agrees with dpkg-deb on members compressed as other tools compress them", () => {
  it("covers streaming zstd from 1 KiB to 1 MiB, framed zstd, gzip members, xz streams and data.tar", ({ expect }) => {
    const streaming = variants.filter((v) => v.name.endsWith("zstd from a pipe") && v.name.startsWith("control.tar"));
    expect(Math.min(...streaming.map((v) => v.controlTarBytes))).toBe(1024);
    expect(Math.max(...streaming.map((v) => v.controlTarBytes))).toBe(1024 * 1024);
    expect(streaming.map((v) => v.controlTarBytes)).toEqual(expect.arrayContaining([40960, 81920, 163840, 655360]));
    expect(variants.some((v) => v.name.startsWith("librust-winapi-dev ./control alone"))).toBe(true);
    for (const prefix of ["zstd:", "gzip:", "xz:"]) {
      const group = variants.filter((v) => v.name.startsWith(prefix));
      // Each group has both verdicts, so agreement is not the same answer everywhere.
      expect(new Set(group.map((v) => v.dpkgAccepts)), prefix).toEqual(new Set([true, false]));
    }
    expect(variants.filter((v) => v.member === "data.tar").length).toBeGreaterThanOrEqual(4);
  });

  for (const variant of variants) {
    const verdict = variant.dpkgAccepts ? "accepts" : "refuses";
    if (variant.member === "control.tar") {
      it(`${variant.name}: ${verdict} it as dpkg-deb does`, async ({ expect }) => {
        const result = await readDeb(chunkedStream(fromBase64(variant.base64), 65536));
        if (variant.dpkgAccepts) {
          if (!result.ok) throw new Error(`${result.error.code}: ${result.error.message}`);
          expect(result.value.control.fields.map((f) => [f.name, f.value])).toEqual(variant.dpkgFields);
        } else {
          expect(result.ok ? "accepted" : result.error.code).toBeOneOf(REFUSALS);
        }
      });
    } else {
      // deb/ hashes data.tar and passes over it (deb-reader.ts); it never decodes it, so its verdict
      // follows dpkg-deb --info, and what dpkg-deb --contents says is recorded in the test's name.
      const contents = variant.dpkgContents ? "reads" : "cannot read";
      it(`${variant.name}: ${verdict} it as dpkg-deb --info does (dpkg-deb --contents ${contents} it)`, async ({
        expect,
      }) => {
        const result = await readDeb(chunkedStream(fromBase64(variant.base64), 65536));
        expect(result.ok).toBe(variant.dpkgAccepts);
      });
    }
  }
});

describe("the control.tar cap holds for every compression at a buffer boundary", () => {
  // 81920 bytes is one of the sizes workerd's zstd output buffer grows through; at exactly the cap
  // the output fills the buffer node:zlib is given, which must still count as within it.
  const atBoundary = variants.filter(
    (v) => v.controlTarBytes === 81920 && v.member === "control.tar" && v.name.startsWith("control.tar of"),
  );

  it("has one variant per compression", ({ expect }) => {
    expect(atBoundary.length).toBeGreaterThanOrEqual(5);
  });

  for (const variant of atBoundary) {
    it(`${variant.name}: accepted at a cap of exactly its size, refused one byte under`, async ({ expect }) => {
      const bytes = fromBase64(variant.base64);
      const at = await readDeb(chunkedStream(bytes, 65536), { ...DEB_LIMITS, controlTarBytes: 81920 });
      expect(at.ok ? "accepted" : at.error.code).toBe("accepted");
      const under = await readDeb(chunkedStream(bytes, 65536), { ...DEB_LIMITS, controlTarBytes: 81919 });
      expect(under.ok ? "accepted" : under.error.code).toBe("control_tar_too_large");
    });
  }
});
