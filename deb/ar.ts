/**
 * The common ar archive format as deb(5) uses it: an 8-byte global magic, then members, each a
 * 60-byte ASCII header followed by the data and a newline pad to an even offset.
 */
import { ascii, type ByteReader, concat } from "./bytes.ts";
import { DebFormatError } from "./errors.ts";

export const AR_MAGIC = "!<arch>\n";
const HEADER_SIZE = 60;
const encoder = new TextEncoder();

export interface ArMemberHeader {
  name: string;
  size: number;
}

/** Read and check the global header. */
export async function readArMagic(reader: ByteReader): Promise<void> {
  const magic = ascii(await reader.read(AR_MAGIC.length, "the ar magic"));
  if (magic !== AR_MAGIC) {
    throw new DebFormatError("not_ar_archive", "not a Debian package: the file does not start with the ar magic");
  }
}

/** Read the next member header, or undefined at a clean end of archive. */
export async function readArHeader(reader: ByteReader): Promise<ArMemberHeader | undefined> {
  if (await reader.atEnd()) return undefined;
  const raw = ascii(await reader.read(HEADER_SIZE, "an ar member header"));
  if (raw.slice(58, 60) !== "`\n") {
    throw new DebFormatError("bad_ar_header", "corrupt ar member header (bad terminator)");
  }
  // GNU ar terminates names with '/', BSD/dpkg pad with spaces; both are read the same way.
  const name = raw.slice(0, 16).trimEnd().replace(/\/$/, "");
  if (!/^[\x21-\x7e]+$/.test(name)) {
    throw new DebFormatError("bad_ar_member_name", "ar member has an empty or non-printable name");
  }
  const sizeText = raw.slice(48, 58).trimEnd();
  if (!/^[0-9]{1,10}$/.test(sizeText)) {
    throw new DebFormatError("bad_ar_header", `ar member ${name} has an invalid size field`);
  }
  return { name, size: Number(sizeText) };
}

/** Pass over the newline that pads odd-sized members. */
export async function skipArPadding(reader: ByteReader, size: number, name: string): Promise<void> {
  if (size % 2 === 1 && !(await reader.atEnd())) await reader.skip(1, `the padding after ${name}`);
}

export interface ArMember {
  name: string;
  data: Uint8Array;
  /** Seconds since the epoch; 0 for reproducible output. */
  mtime?: number;
  mode?: number;
}

/** Write an ar archive in memory (fixtures and keyring packages: small by construction). */
export function writeAr(members: readonly ArMember[]): Uint8Array {
  const parts: Uint8Array[] = [encoder.encode(AR_MAGIC)];
  for (const m of members) {
    const header =
      field(m.name, 16) +
      field(String(m.mtime ?? 0), 12) +
      field("0", 6) +
      field("0", 6) +
      field((m.mode ?? 0o100644).toString(8), 8) +
      field(String(m.data.length), 10) +
      "`\n";
    parts.push(encoder.encode(header), m.data);
    if (m.data.length % 2 === 1) parts.push(encoder.encode("\n"));
  }
  return concat(parts);
}

function field(value: string, width: number): string {
  if (value.length > width) throw new Error(`ar header field "${value}" is wider than ${width}`);
  return value.padEnd(width, " ");
}
