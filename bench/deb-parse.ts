/**
 * deb/ parse throughput: readDeb (control parse + MD5/SHA-1/SHA-256/SHA-512 of the whole file)
 * over a directory of packages, beside `dpkg-deb -f` over the same files.
 *
 *   npm run bench:deb [-- --count 2000 --large 4 --large-mib 32]
 */
import { execFileSync } from "node:child_process";
import { createReadStream, existsSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { parseArgs } from "node:util";
import { gzipSync } from "node:zlib";
import { writeAr } from "../deb/ar.ts";
import { readDeb } from "../deb/deb-reader.ts";
import { writeTar } from "../deb/tar.ts";
import { synthesizeDebs } from "./synth.ts";

const { values } = parseArgs({
  options: {
    count: { type: "string", default: "2000" },
    large: { type: "string", default: "4" },
    "large-mib": { type: "string", default: "32" },
  },
});
const work = join(import.meta.dirname, ".work");

function largeDebs(n: number, mib: number): string[] {
  const dir = join(work, "large");
  mkdirSync(dir, { recursive: true });
  const enc = new TextEncoder();
  return Array.from({ length: n }, (_, i) => {
    const path = join(dir, `large-${i}-${mib}MiB.deb`);
    if (existsSync(path)) return path;
    const control = `Package: large${i}\nVersion: 1.0\nArchitecture: amd64\nMaintainer: Bench <b@armor.invalid>\nDescription: large package\n`;
    // Incompressible data, stored in an uncompressed data.tar member so the file really is `mib` MiB.
    const data = new Uint8Array(mib * 1024 * 1024);
    for (let off = 0; off < data.length; off += 65536) crypto.getRandomValues(data.subarray(off, off + 65536));
    writeFileSync(
      path,
      writeAr([
        { name: "debian-binary", data: enc.encode("2.0\n") },
        { name: "control.tar.gz", data: gzipSync(writeTar([{ name: "./control", data: enc.encode(control) }])) },
        { name: "data.tar", data: writeTar([{ name: "./blob", data }]) },
      ]),
    );
    return path;
  });
}

async function timeOurs(files: string[]): Promise<number> {
  const start = performance.now();
  for (const f of files) {
    const r = await readDeb(
      Readable.toWeb(createReadStream(f, { highWaterMark: 256 * 1024 })) as ReadableStream<Uint8Array>,
    );
    if (!r.ok) throw new Error(`${f}: ${r.error.code} ${r.error.message}`);
  }
  return (performance.now() - start) / 1000;
}

function timeDpkg(files: string[]): number {
  const start = performance.now();
  for (const f of files) execFileSync("dpkg-deb", ["-f", f], { stdio: ["ignore", "ignore", "inherit"] });
  return (performance.now() - start) / 1000;
}

function row(label: string, files: string[], seconds: number): string {
  const bytes = files.reduce((n, f) => n + statSync(f).size, 0);
  return `| ${label} | ${files.length} | ${(bytes / 1048576).toFixed(1)} | ${seconds.toFixed(2)} | ${(files.length / seconds).toFixed(0)} | ${(bytes / 1048576 / seconds).toFixed(1)} |`;
}

const small = synthesizeDebs(join(work, "synth"), Number(values.count));
const large = largeDebs(Number(values.large), Number(values["large-mib"]));
await timeOurs(small.slice(0, 50)); // warm up the JIT

console.log(`deb/ parse throughput on ${cpus()[0]?.model ?? "?"} (${cpus().length} cores), Node ${process.version}\n`);
console.log("| run | files | MiB | seconds | packages/s | MB/s |");
console.log("|---|---|---|---|---|---|");
for (const [name, files] of [
  ["small (real control data; gzip/xz/zstd control)", small],
  [`large (${values["large-mib"]} MiB each)`, large],
] as const) {
  console.log(row(`readDeb: ${name}`, files, await timeOurs(files)));
  console.log(row(`dpkg-deb -f: ${name}`, files, timeDpkg(files)));
}
console.log("\nreadDeb also computes MD5, SHA-1, SHA-256 and SHA-512 of every byte; dpkg-deb -f does not hash.");
