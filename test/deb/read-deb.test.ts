import { describe, inject, it } from "vitest";
import { readDeb } from "../../deb/deb-reader.ts";
import { renderStanza } from "../../deb/packages.ts";
import { poolPath } from "../../deb/pool.ts";
import { chunkedStream, fromBase64 } from "../helpers/bytes.ts";

const debs = inject("debs");
const hostile = inject("hostile");

describe("readDeb over real packages", () => {
  it("has every kind of fixture", ({ expect }) => {
    const origins = new Set(debs.map((d) => d.origin));
    expect([...origins].sort()).toEqual(["Debian archive", "deb/ writer", "dpkg-deb"]);
    expect(debs.filter((d) => d.origin === "Debian archive").length).toBeGreaterThanOrEqual(5);
  });

  for (const fixture of debs) {
    describe(fixture.name, () => {
      const bytes = fromBase64(fixture.base64);

      it("parses the control file exactly as dpkg-deb -f prints it", async ({ expect }) => {
        const result = await readDeb(chunkedStream(bytes, 4096));
        if (!result.ok) throw new Error(`${result.error.code}: ${result.error.message}`);
        expect(result.value.control.fields.map((f) => [f.name, f.value])).toEqual(fixture.dpkgFields);
      });

      it("hashes the whole file as sha256sum and md5sum do, whatever the chunking", async ({ expect }) => {
        for (const size of [1 + (bytes.length % 7), 997, 65536]) {
          if (size < 64 && bytes.length > 100_000) continue; // byte-sized chunks only for small files
          const result = await readDeb(chunkedStream(bytes, size));
          if (!result.ok) throw new Error(result.error.message);
          expect(result.value.hashes).toMatchObject({ sha256: fixture.sha256, md5: fixture.md5, size: fixture.size });
        }
      });

      it("renders the same Packages stanza as apt-ftparchive, byte for byte", async ({ expect }) => {
        const result = await readDeb(chunkedStream(bytes, 65536));
        if (!result.ok) throw new Error(result.error.message);
        const filename = /^Filename: (.*)$/m.exec(fixture.ftparchiveStanza)?.[1] ?? "";
        const stanza = renderStanza({ fields: result.value.control.fields, filename, ...result.value.hashes });
        expect(`${stanza}\n`).toBe(fixture.ftparchiveStanza);
      });

      it("has a pool path under pool/main/{prefix}/{source}/", async ({ expect }) => {
        const result = await readDeb(chunkedStream(bytes, 65536));
        if (!result.ok) throw new Error(result.error.message);
        const { control } = result.value;
        const path = poolPath("main", control);
        expect(path).toMatchObject({ ok: true });
        if (path.ok)
          expect(path.value).toMatch(
            new RegExp(
              `^pool/main/[a-z0-9]{1,4}/${escapeRegExp(control.source)}/${escapeRegExp(control.package)}_[^_/:]+_${control.architecture}\\.deb$`,
            ),
          );
      });

      if (fixture.origin === "deb/ writer") {
        it("is accepted by dpkg-deb --info and --contents", ({ expect }) => {
          expect(fixture.dpkgAccepts).toBe(true);
        });
      }
    });
  }
});

describe("readDeb refuses malformed and hostile packages", () => {
  it("has a corpus of at least 20 cases and 20 distinct codes", ({ expect }) => {
    expect(hostile.length).toBeGreaterThanOrEqual(20);
    expect(new Set(hostile.map((h) => h.code)).size).toBeGreaterThanOrEqual(20);
  });

  for (const h of hostile) {
    it(`${h.name} → ${h.code}`, async ({ expect }) => {
      const result = await readDeb(chunkedStream(fromBase64(h.base64), 8192));
      expect(result.ok ? "accepted" : result.error.code).toBe(h.code);
      if (!result.ok) expect(result.error.message.length).toBeGreaterThan(10);
    });
  }

  it("cancels the stream when it gives up, so a tee'd sibling is not left buffering", async ({ expect }) => {
    const zip = new TextEncoder().encode("PK\x03\x04 not a deb");
    let cancelled = false;
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(zip);
      },
      cancel() {
        cancelled = true;
      },
    });
    const result = await readDeb(stream);
    expect(result.ok).toBe(false);
    expect(cancelled).toBe(true);
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.+]/g, "\\$&");
}
