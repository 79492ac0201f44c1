/**
 * A gzip member read the way dpkg-deb reads it: through zlib's gzread (RFC 1952), which decodes
 * member after member while the next two bytes are the gzip magic, ignores whatever else follows
 * a member, and passes input that does not start with the magic through as it is.
 *
 * node:zlib's `gunzipSync` decodes concatenated members too, and stops at a zero byte after one,
 * so when it succeeds its output is gzread's. It refuses bytes after the last member that are
 * neither a member nor zeros, which gzread ignores; only then are the members delimited here and
 * their deflate data (RFC 1951) inflated one by one.
 */
import { crc32, gunzipSync, inflateRawSync } from "node:zlib";
import { concat } from "./bytes.ts";
import { checkOutputCap, isOutputLimitError, zlibOutputLimit } from "./zlib-cap.ts";

/** Thrown for a gzip member that zlib would refuse; the message says what is wrong. */
export class GzipError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "GzipError";
  }
}

const FHCRC = 0x02;
const FEXTRA = 0x04;
const FNAME = 0x08;
const FCOMMENT = 0x10;
const RESERVED = 0xe0;
/**
 * Members walked one by one, each an `inflateRawSync` call (about 10 µs): the walk runs only for
 * input `gunzipSync` refused, and without a bound 8 MiB of empty members would cost seconds of CPU.
 * No real package comes near it; dpkg-deb sets no such bound.
 */
const MAX_WALKED_MEMBERS = 1024;

/** What `inflateRawSync(…, { info: true })` returns; @types/node types only the plain Buffer form. */
interface InflateInfo {
  buffer: Uint8Array;
  engine: { bytesWritten: number };
}

/**
 * Decode `member` as gzread does, refusing output above `maxOutput` with node:zlib's kind of
 * limit error (zlib-cap.ts).
 */
export function gunzipLikeDpkg(member: Uint8Array, maxOutput: number): Uint8Array {
  if (!isMember(member, 0)) return checkOutputCap(member, maxOutput);
  try {
    return checkOutputCap(gunzipSync(member, { maxOutputLength: zlibOutputLimit(maxOutput) }), maxOutput);
  } catch (cause) {
    if (isOutputLimitError(cause)) throw cause;
  }
  return walkMembers(member, maxOutput);
}

function walkMembers(member: Uint8Array, maxOutput: number): Uint8Array {
  const parts: Uint8Array[] = [];
  let produced = 0;
  let pos = 0;
  do {
    if (parts.length === MAX_WALKED_MEMBERS) {
      throw new GzipError(`more than ${MAX_WALKED_MEMBERS} members followed by data that is not one`);
    }
    const dataStart = headerEnd(member, pos);
    const result = inflateRawSync(member.subarray(dataStart), {
      info: true,
      maxOutputLength: zlibOutputLimit(maxOutput - produced),
    }) as unknown as InflateInfo;
    const out = checkOutputCap(result.buffer, maxOutput - produced);
    produced += out.byteLength;
    const trailer = dataStart + result.engine.bytesWritten;
    if (trailer + 8 > member.length) throw new GzipError("unexpected end of file");
    if (crc32(out) !== uint32(member, trailer)) throw new GzipError("incorrect data check");
    if (out.byteLength % 2 ** 32 !== uint32(member, trailer + 4)) throw new GzipError("incorrect length check");
    parts.push(out);
    pos = trailer + 8;
  } while (isMember(member, pos));
  return parts.length === 1 && parts[0] ? parts[0] : concat(parts);
}

/** gzread looks for a next member only when at least two bytes are left (zlib gz_look). */
function isMember(bytes: Uint8Array, at: number): boolean {
  return at + 1 < bytes.length && bytes[at] === 0x1f && bytes[at + 1] === 0x8b;
}

/** The offset of the deflate data after the member header at `at` (RFC 1952 §2.3.1). */
function headerEnd(bytes: Uint8Array, at: number): number {
  if (at + 10 > bytes.length) throw new GzipError("unexpected end of file");
  if (bytes[at + 2] !== 8) throw new GzipError("unknown compression method");
  const flags = bytes[at + 3] ?? 0;
  if ((flags & RESERVED) !== 0) throw new GzipError("unknown header flags set");
  let pos = at + 10;
  if ((flags & FEXTRA) !== 0) {
    if (pos + 2 > bytes.length) throw new GzipError("unexpected end of file");
    pos += 2 + ((bytes[pos] ?? 0) | ((bytes[pos + 1] ?? 0) << 8));
  }
  for (const flag of [FNAME, FCOMMENT]) {
    if ((flags & flag) === 0) continue;
    const nul = bytes.indexOf(0, pos);
    if (nul === -1) throw new GzipError("unexpected end of file");
    pos = nul + 1;
  }
  if ((flags & FHCRC) !== 0) {
    if (pos + 2 > bytes.length) throw new GzipError("unexpected end of file");
    if ((crc32(bytes.subarray(at, pos)) & 0xffff) !== ((bytes[pos] ?? 0) | ((bytes[pos + 1] ?? 0) << 8))) {
      throw new GzipError("header crc mismatch");
    }
    pos += 2;
  }
  if (pos > bytes.length) throw new GzipError("unexpected end of file");
  return pos;
}

function uint32(bytes: Uint8Array, at: number): number {
  return (
    ((bytes[at] ?? 0) | ((bytes[at + 1] ?? 0) << 8) | ((bytes[at + 2] ?? 0) << 16) | ((bytes[at + 3] ?? 0) << 24)) >>> 0
  );
}
