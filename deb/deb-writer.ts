/**
 * Build a `.deb` in memory (ar + gzip'd ustar members), the way `dpkg-deb --build -Zgzip` lays it
 * out. Used for test fixtures, the keyring packages the CLI builds, and the CLI's own package
 * (`npm run build:deb`, a 120 MB executable: a few hundred MB of memory on a build machine).
 */
import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";
import { writeAr } from "./ar.ts";
import type { ControlField } from "./control.ts";
import { type TarInput, writeTar } from "./tar.ts";

export interface DebFileInput {
  /** Absolute install path, e.g. "/usr/share/keyrings/x.gpg". */
  path: string;
  data: Uint8Array | string;
  mode?: number;
}

export interface BuildDebInput {
  /** Control fields in the order they should appear; Installed-Size is added when absent. */
  fields: readonly ControlField[];
  files: readonly DebFileInput[];
  /** Seconds since the epoch for every header (0 by default, for reproducible output). */
  mtime?: number;
}

const encoder = new TextEncoder();

export function buildDeb(input: BuildDebInput): Uint8Array {
  const files = input.files.map((f) => {
    if (!f.path.startsWith("/") || f.path.endsWith("/") || f.path.split("/").some((s) => s === "..")) {
      throw new Error(`package file path must be absolute and normalized: ${f.path}`);
    }
    return { ...f, data: typeof f.data === "string" ? encoder.encode(f.data) : f.data };
  });
  const dirs = new Set<string>();
  for (const f of files) {
    const parts = f.path.split("/").slice(1, -1);
    for (let i = 1; i <= parts.length; i++) dirs.add(`./${parts.slice(0, i).join("/")}/`);
  }
  const dataEntries: TarInput[] = [
    { name: "./" },
    ...[...dirs].sort().map((name) => ({ name })),
    ...files.map((f) => ({ name: `.${f.path}`, data: f.data, mode: f.mode ?? 0o644 })),
  ];

  const fields = [...input.fields];
  if (!fields.some((f) => f.name.toLowerCase() === "installed-size")) {
    // dpkg-gencontrol's estimate: one KiB per directory plus each file rounded up to KiB.
    const kib = dirs.size + 1 + files.reduce((n, f) => n + Math.ceil(f.data.length / 1024), 0);
    fields.push({ name: "Installed-Size", value: String(kib) });
  }
  const control = fields
    .map((f) => (f.value.startsWith("\n") ? `${f.name}:${f.value}` : `${f.name}: ${f.value}`))
    .join("\n");
  const md5sums = files.map((f) => `${createHash("md5").update(f.data).digest("hex")}  ${f.path.slice(1)}\n`).join("");
  const controlEntries: TarInput[] = [
    { name: "./" },
    { name: "./control", data: encoder.encode(`${control}\n`) },
    { name: "./md5sums", data: encoder.encode(md5sums) },
  ];

  const mtime = input.mtime ?? 0;
  return writeAr([
    { name: "debian-binary", data: encoder.encode("2.0\n"), mtime },
    { name: "control.tar.gz", data: gzipSync(writeTar(controlEntries, mtime)), mtime },
    { name: "data.tar.gz", data: gzipSync(writeTar(dataEntries, mtime)), mtime },
  ]);
}
