/**
 * Synthesizes small, valid `.deb` files from real Debian control data (the machine's bookworm
 * Packages index), with gzip, xz and zstd control members, for benchmarks. Shared with the
 * scale benchmark of issue 7.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync, zstdCompressSync } from "node:zlib";
import { writeAr } from "../deb/ar.ts";
import { writeTar } from "../deb/tar.ts";
import { readPackagesIndex } from "../test/helpers/apt-lists.ts";

// Fields an archive adds to an index; a package's own control file never carries them.
const INDEX_ONLY = /^(Filename|Size|MD5sum|SHA1|SHA256|SHA512|Description-md5|Tag|Task|Phased-Update-Percentage):/;

/** The first `n` stanzas of the machine's Debian Packages index, as control files. */
export function realControls(n: number): string[] {
  const text = readPackagesIndex();
  const out: string[] = [];
  for (const stanza of text.split("\n\n")) {
    if (out.length >= n) break;
    const lines: string[] = [];
    let skipping = false;
    for (const line of stanza.split("\n")) {
      if (line === "") continue;
      if (!/^[ \t]/.test(line)) skipping = INDEX_ONLY.test(line);
      if (!skipping) lines.push(line);
    }
    if (lines.length > 0) out.push(`${lines.join("\n")}\n`);
  }
  return out;
}

const COMPRESSORS = {
  gzip: { member: "control.tar.gz", pack: (b: Uint8Array) => gzipSync(b) },
  zstd: { member: "control.tar.zst", pack: (b: Uint8Array) => zstdCompressSync(b) },
  xz: { member: "control.tar.xz", pack: (b: Uint8Array) => execFileSync("xz", ["-c", "-6"], { input: b }) },
} as const;

/** Write `n` synthesized packages into `dir` (kept between runs); returns their paths. */
export function synthesizeDebs(dir: string, n: number, dataBytes = 2048): string[] {
  mkdirSync(dir, { recursive: true });
  const controls = realControls(n);
  const kinds = Object.keys(COMPRESSORS) as (keyof typeof COMPRESSORS)[];
  const enc = new TextEncoder();
  return controls.map((control, i) => {
    const path = join(dir, `synth-${String(i).padStart(6, "0")}.deb`);
    if (existsSync(path)) return path;
    const kind = kinds[i % kinds.length] ?? "gzip";
    const { member, pack } = COMPRESSORS[kind];
    const controlTar = writeTar([{ name: "./" }, { name: "./control", data: enc.encode(control) }]);
    const payload = new Uint8Array(dataBytes).map((_, j) => (i * 31 + j * 7) & 0xff);
    const dataTar = writeTar([{ name: "./" }, { name: "./payload", data: payload }]);
    writeFileSync(
      path,
      writeAr([
        { name: "debian-binary", data: enc.encode("2.0\n") },
        { name: member, data: pack(controlTar) },
        { name: "data.tar.gz", data: gzipSync(dataTar) },
      ]),
    );
    return path;
  });
}
