/**
 * Just enough tar (POSIX ustar, with GNU long names and pax path records) to find one file in a
 * control.tar, and to write the small archives our own packages need.
 */
import { ascii, concat } from "./bytes.ts";
import { DebFormatError } from "./errors.ts";

const BLOCK = 512;
const encoder = new TextEncoder();
const utf8 = new TextDecoder("utf-8");

export interface TarEntry {
  name: string;
  type: string;
  data: Uint8Array;
}

/** Parse a whole tar held in memory. Member names are normalized (no leading "./"). */
export function readTar(tar: Uint8Array): TarEntry[] {
  const entries: TarEntry[] = [];
  let pos = 0;
  let longName: string | undefined;
  for (;;) {
    if (pos + BLOCK > tar.length) {
      // A tar must end with zero blocks, but several writers stop after the last member.
      if (pos === tar.length) return entries;
      throw new DebFormatError("bad_tar", "control.tar ends inside a header block");
    }
    const header = tar.subarray(pos, pos + BLOCK);
    if (header.every((b) => b === 0)) return entries;
    verifyChecksum(header);
    const size = parseNumber(header.subarray(124, 136), "size");
    const type = ascii(header.subarray(156, 157)).replace("\0", "0");
    const dataStart = pos + BLOCK;
    if (dataStart + size > tar.length) {
      throw new DebFormatError("bad_tar", "control.tar member runs past the end of the archive");
    }
    const data = tar.subarray(dataStart, dataStart + size);
    pos = dataStart + Math.ceil(size / BLOCK) * BLOCK;

    if (type === "L") {
      longName = cString(data);
      continue;
    }
    if (type === "x") {
      const path = paxPath(data);
      if (path !== undefined) longName = path;
      continue;
    }
    if (type === "g") continue;
    const prefix = cString(header.subarray(345, 500));
    const plain = cString(header.subarray(0, 100));
    const name = longName ?? (prefix ? `${prefix}/${plain}` : plain);
    longName = undefined;
    entries.push({ name: normalizeName(name), type, data });
  }
}

function verifyChecksum(header: Uint8Array): void {
  const stored = parseNumber(header.subarray(148, 156), "checksum");
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : (header[i] ?? 0);
  if (sum !== stored) throw new DebFormatError("bad_tar", "control.tar header checksum mismatch");
}

function parseNumber(field: Uint8Array, what: string): number {
  if (((field[0] ?? 0) & 0x80) !== 0) {
    // GNU base-256 encoding, used for sizes of 8 GiB and more: far beyond any control member.
    throw new DebFormatError("bad_tar", `control.tar ${what} field is too large`);
  }
  const text = ascii(field)
    .replace(/[\0 ]+$/, "")
    .replace(/^ +/, "");
  if (text === "") return 0;
  if (!/^[0-7]+$/.test(text)) throw new DebFormatError("bad_tar", `control.tar has an invalid ${what} field`);
  return Number.parseInt(text, 8);
}

function cString(bytes: Uint8Array): string {
  const end = bytes.indexOf(0);
  return utf8.decode(end === -1 ? bytes : bytes.subarray(0, end));
}

/** pax extended header records: "LEN key=value\n", LEN counting bytes (POSIX.1-2001 pax format). */
function paxPath(data: Uint8Array): string | undefined {
  let path: string | undefined;
  let pos = 0;
  while (pos < data.length) {
    const space = data.indexOf(0x20, pos);
    const len = space === -1 ? Number.NaN : Number(ascii(data.subarray(pos, space)));
    if (
      !Number.isSafeInteger(len) ||
      len <= space - pos + 1 ||
      pos + len > data.length ||
      data[pos + len - 1] !== 0x0a
    ) {
      throw new DebFormatError("bad_tar", "control.tar has a malformed pax header");
    }
    const record = utf8.decode(data.subarray(space + 1, pos + len - 1));
    if (record.startsWith("path=")) path = record.slice(5);
    pos += len;
  }
  return path;
}

function normalizeName(name: string): string {
  return name.replace(/^(\.\/)+/, "").replace(/\/+$/, "");
}

export interface TarInput {
  /** Path inside the archive, e.g. "./usr/share/doc/x/copyright"; directories end with "/". */
  name: string;
  data?: Uint8Array;
  mode?: number;
}

/** Write a ustar archive (names up to 255 bytes via the prefix field). */
export function writeTar(entries: readonly TarInput[], mtime = 0): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const e of entries) {
    const isDir = e.name.endsWith("/");
    const data = e.data ?? new Uint8Array(0);
    const header = new Uint8Array(BLOCK);
    const [prefix, name] = splitName(e.name);
    put(header, 0, name, 100);
    put(header, 100, octal(e.mode ?? (isDir ? 0o755 : 0o644), 8), 8);
    put(header, 108, octal(0, 8), 8);
    put(header, 116, octal(0, 8), 8);
    put(header, 124, octal(isDir ? 0 : data.length, 12), 12);
    put(header, 136, octal(mtime, 12), 12);
    header.fill(0x20, 148, 156);
    put(header, 156, isDir ? "5" : "0", 1);
    put(header, 257, "ustar\0", 6);
    put(header, 263, "00", 2);
    put(header, 265, "root", 32);
    put(header, 297, "root", 32);
    put(header, 345, prefix, 155);
    let sum = 0;
    for (const b of header) sum += b;
    put(header, 148, `${sum.toString(8).padStart(6, "0")}\0 `, 8);
    parts.push(header);
    if (!isDir && data.length > 0) {
      parts.push(data, new Uint8Array((BLOCK - (data.length % BLOCK)) % BLOCK));
    }
  }
  parts.push(new Uint8Array(BLOCK * 2));
  return concat(parts);
}

function splitName(name: string): [prefix: string, name: string] {
  if (encoder.encode(name).length <= 100) return ["", name];
  const cut = name.lastIndexOf("/", name.length - 2);
  const prefix = name.slice(0, cut);
  const rest = name.slice(cut + 1);
  if (cut <= 0 || encoder.encode(prefix).length > 155 || encoder.encode(rest).length > 100) {
    throw new Error(`tar path too long for ustar: ${name}`);
  }
  return [prefix, rest];
}

function octal(n: number, width: number): string {
  return `${n.toString(8).padStart(width - 1, "0")}\0`;
}

function put(header: Uint8Array, at: number, text: string, width: number): void {
  const bytes = encoder.encode(text);
  if (bytes.length > width) throw new Error(`tar header field "${text}" is wider than ${width}`);
  header.set(bytes, at);
}
