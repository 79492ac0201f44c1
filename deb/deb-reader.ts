/**
 * Read a `.deb` (deb(5)) from a stream in one pass: hash every byte, decompress and parse only the
 * control member, pass over the data member without holding it. Memory stays bounded by the
 * control limits whatever the size of the package.
 */
import { readArHeader, readArMagic, skipArPadding } from "./ar.ts";
import { ascii, ByteReader, type ByteSource } from "./bytes.ts";
import { type Control, parseControlFile } from "./control.ts";
import { type Compression, compressionOf, decompress } from "./decompress.ts";
import { DebFormatError, ok, type Result } from "./errors.ts";
import { type FileHashes, MultiHasher } from "./hash.ts";
import { readTar } from "./tar.ts";

export interface DebLimits {
  /** The control.tar member as stored (compressed). */
  controlMemberBytes: number;
  /** The control.tar member once decompressed: the decompression-bomb guard. */
  controlTarBytes: number;
}

export const DEB_LIMITS: DebLimits = {
  controlMemberBytes: 8 * 1024 * 1024,
  controlTarBytes: 8 * 1024 * 1024,
};

export interface DebInfo {
  control: Control;
  hashes: FileHashes;
  controlCompression: Compression;
  dataCompression: string;
}

// dpkg-deb reads data.tar with any of these; we only pass over it, but refuse what dpkg cannot read.
const DATA_COMPRESSIONS = new Set(["", ".gz", ".xz", ".zst", ".bz2", ".lzma"]);

/** Parse and hash a package. Failures are values with a `DebErrorCode`; the stream is cancelled. */
export async function readDeb(source: ByteSource, limits: DebLimits = DEB_LIMITS): Promise<Result<DebInfo>> {
  const hasher = new MultiHasher();
  const reader = new ByteReader(source, (chunk) => hasher.update(chunk));
  try {
    const parsed = await readMembers(reader, limits);
    return ok({ ...parsed, hashes: hasher.digest() });
  } catch (e) {
    await reader.close();
    if (e instanceof DebFormatError) return { ok: false, error: e.error };
    throw e;
  }
}

async function readMembers(reader: ByteReader, limits: DebLimits): Promise<Omit<DebInfo, "hashes">> {
  await readArMagic(reader);

  const first = await readArHeader(reader);
  if (first === undefined) throw new DebFormatError("truncated", "the ar archive is empty");
  if (first.name !== "debian-binary") {
    if (first.name.startsWith("control.tar") || first.name.startsWith("data.tar")) {
      throw new DebFormatError(
        "member_order",
        `the first member is ${first.name}; deb(5) requires debian-binary first`,
      );
    }
    throw new DebFormatError("bad_debian_binary", `the first member is "${first.name}", not debian-binary`);
  }
  if (first.size > 64) throw new DebFormatError("bad_debian_binary", "debian-binary is implausibly large");
  const formatVersion = ascii(await reader.read(first.size, "debian-binary"));
  await skipArPadding(reader, first.size, "debian-binary");
  const major = /^(\d+)\.\d+\n/.exec(formatVersion)?.[1];
  if (major === undefined)
    throw new DebFormatError("bad_debian_binary", "debian-binary does not hold a format version");
  if (major !== "2") {
    throw new DebFormatError(
      "unsupported_deb_version",
      `package format ${formatVersion.trim()} is not supported (only 2.x)`,
    );
  }

  const controlHeader = await nextMember(reader, "control.tar");
  const controlCompression = compressionOf(controlHeader.name, "control.tar");
  if (controlCompression === undefined) {
    throw new DebFormatError(
      "unsupported_compression",
      `${controlHeader.name}: dpkg reads control.tar uncompressed or as .gz, .xz or .zst`,
    );
  }
  if (controlHeader.size > limits.controlMemberBytes) {
    throw new DebFormatError(
      "control_member_too_large",
      `${controlHeader.name} is ${controlHeader.size} bytes, more than the ${limits.controlMemberBytes} allowed`,
    );
  }
  const packed = await reader.read(controlHeader.size, controlHeader.name);
  await skipArPadding(reader, controlHeader.size, controlHeader.name);
  const controlBytes = findControlFile(decompress(controlCompression, packed, limits.controlTarBytes));
  const control = parseControlFile(controlBytes);
  if (!control.ok) throw new DebFormatError(control.error.code, control.error.message, control.error.field);

  const dataHeader = await nextMember(reader, "data.tar");
  const dataExt = dataHeader.name.slice("data.tar".length);
  if (!DATA_COMPRESSIONS.has(dataExt)) {
    throw new DebFormatError("unsupported_compression", `${dataHeader.name}: dpkg cannot read this data member`);
  }
  await reader.skip(dataHeader.size, dataHeader.name);
  await skipArPadding(reader, dataHeader.size, dataHeader.name);

  // Members after data.tar are ignored by dpkg, but they must still be well-formed ar members.
  for (let h = await readArHeader(reader); h !== undefined; h = await readArHeader(reader)) {
    await reader.skip(h.size, h.name);
    await skipArPadding(reader, h.size, h.name);
  }

  return {
    control: control.value,
    controlCompression,
    dataCompression: dataExt === "" ? "none" : dataExt.slice(1),
  };
}

/** The next member named `base…`, skipping the "_"-prefixed members deb(5) reserves for tools. */
async function nextMember(reader: ByteReader, base: "control.tar" | "data.tar") {
  for (;;) {
    const header = await readArHeader(reader);
    if (header === undefined) {
      throw new DebFormatError(
        base === "control.tar" ? "missing_control_member" : "missing_data_member",
        `the package has no ${base} member`,
      );
    }
    if (header.name.startsWith("_")) {
      await reader.skip(header.size, header.name);
      await skipArPadding(reader, header.size, header.name);
      continue;
    }
    if (header.name.startsWith(base)) return header;
    throw new DebFormatError("member_order", `expected ${base} but found the member "${header.name}"`);
  }
}

function findControlFile(tar: Uint8Array): Uint8Array {
  const matches = readTar(tar).filter((e) => e.name === "control");
  const [entry, second] = matches;
  if (entry === undefined) throw new DebFormatError("missing_control_file", "control.tar has no ./control file");
  if (second !== undefined)
    throw new DebFormatError("duplicate_control_file", "control.tar holds ./control more than once");
  if (entry.type !== "0")
    throw new DebFormatError("missing_control_file", "./control in control.tar is not a regular file");
  return entry.data;
}
