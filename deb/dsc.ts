/**
 * Source package descriptions: the `.dsc` (Debian Policy §5.4) and the `.changes` (§5.5), parsed
 * strictly, since every field is copied into a Sources index and every listed name becomes a pool
 * path. A clearsigned file (RFC 9580 §7, as debsign writes it) is read through its armor; the
 * signature is kept, not checked: apt checks the repository's own Release signature, and a
 * maintainer's key means nothing to it.
 */
import { PACKAGE_NAME } from "../schema/limits.ts";
import { type ControlField, controlField, parseParagraph } from "./control.ts";
import { DebFormatError, ok, type Result } from "./errors.ts";
import { parseVersion } from "./version.ts";

export const SOURCE_LIMITS = {
  /** A `.dsc` or `.changes`: real ones are a few KiB; Package-List of a large source stays far below. */
  descriptionBytes: 256 * 1024,
  /** Files a source package may list: an orig tarball, its components and signatures, a debian part. */
  files: 64,
};

/** The source formats dpkg-source builds and apt unpacks with `dpkg-source -x`. */
export const SOURCE_FORMATS = ["1.0", "3.0 (quilt)", "3.0 (native)"] as const;
export type SourceFormat = (typeof SOURCE_FORMATS)[number];

/** One file a `.dsc` or `.changes` lists, with every checksum it gives. */
export interface ListedFile {
  name: string;
  size: number;
  md5: string;
  sha1?: string;
  sha256: string;
}

export interface SourceDescription {
  source: string;
  version: string;
  format: SourceFormat;
  /** Every field of the `.dsc` in file order (the checksum lists included, as written). */
  fields: ControlField[];
  /** The files the `.dsc` lists, in its `Files` order. */
  files: ListedFile[];
  /** The armored signature of a clearsigned `.dsc`, kept as it came. */
  signature: string | null;
}

export interface ChangesDescription {
  source: string;
  version: string;
  fields: ControlField[];
  files: ListedFile[];
  signature: string | null;
}

// A file name in a source package: one path segment, as dpkg-source writes them (Policy §5.6.21).
const FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9.+~_:-]*$/;
const HEX = { md5: /^[0-9a-f]{32}$/, sha1: /^[0-9a-f]{40}$/, sha256: /^[0-9a-f]{64}$/ };
/** The fields a Sources index writes itself from what the repository stored. */
const RESERVED_SOURCE = new Set(["directory", "package", "checksums-sha512", "status"]);
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Parse a `.dsc` (clearsigned or not). */
export function parseDsc(bytes: Uint8Array): Result<SourceDescription> {
  return guarded(() => {
    const { text, signature } = unwrap(decode(bytes, "the .dsc"), "the .dsc");
    const fields = parseParagraph(text, { noun: "the .dsc", reserved: RESERVED_SOURCE });
    const source = sourceName(fields, "the .dsc");
    const version = sourceVersion(fields, "the .dsc");
    const formatText = required(fields, "Format", "the .dsc");
    const format = SOURCE_FORMATS.find((f) => f === formatText);
    if (format === undefined) {
      throw new DebFormatError(
        "unknown_source_format",
        `the .dsc's Format "${truncate(formatText)}" is not one Armor serves (${SOURCE_FORMATS.join(", ")})`,
        "Format",
      );
    }
    return { source, version, format, fields, files: checksummedFiles(fields, "the .dsc", false), signature };
  });
}

/** Parse a `.changes` (clearsigned or not): what `armor pkgs add x.changes` uploads. */
export function parseChanges(bytes: Uint8Array): Result<ChangesDescription> {
  return guarded(() => {
    const { text, signature } = unwrap(decode(bytes, "the .changes"), "the .changes");
    const fields = parseParagraph(text, { noun: "the .changes", reserved: new Set() });
    const source = sourceName(fields, "the .changes");
    const version = sourceVersion(fields, "the .changes");
    return { source, version, fields, files: checksummedFiles(fields, "the .changes", true), signature };
  });
}

function guarded<T>(fn: () => T): Result<T> {
  try {
    return ok(fn());
  } catch (e) {
    if (e instanceof DebFormatError) return { ok: false, error: e.error };
    throw e;
  }
}

function decode(bytes: Uint8Array, noun: string): string {
  if (bytes.length > SOURCE_LIMITS.descriptionBytes) {
    throw new DebFormatError("dsc_too_large", `${noun} is larger than ${SOURCE_LIMITS.descriptionBytes} bytes`);
  }
  try {
    return utf8.decode(bytes);
  } catch {
    throw new DebFormatError("not_utf8", `${noun} is not valid UTF-8 (Debian Policy §5.1 requires UTF-8)`);
  }
}

/**
 * The paragraph of a possibly clearsigned text (RFC 9580 §7): the armor headers end at the first
 * empty line, dash-escaped lines ("- x") are unescaped, and the line break before the signature
 * belongs to the armor. Nothing but blank lines may stand outside the armor.
 */
function unwrap(text: string, noun: string): { text: string; signature: string | null } {
  const BEGIN = "-----BEGIN PGP SIGNED MESSAGE-----";
  const lines = text.split("\n").map((l) => l.replace(/\r$/, ""));
  const first = lines.findIndex((l) => l.trim() !== "");
  if (first === -1 || lines[first] !== BEGIN) {
    if (text.includes("-----BEGIN PGP")) {
      throw new DebFormatError(
        "bad_signed_message",
        `${noun} holds a PGP armor block but is not a clearsigned message`,
      );
    }
    return { text, signature: null };
  }
  let i = first + 1;
  while (i < lines.length && lines[i] !== "") {
    if (!/^[A-Za-z]+: /.test(lines[i] ?? "")) {
      throw new DebFormatError(
        "bad_signed_message",
        `${noun}: line ${i + 1} is not an armor header of the signed message`,
      );
    }
    i++;
  }
  const start = i + 1;
  const sigStart = lines.indexOf("-----BEGIN PGP SIGNATURE-----", start);
  const sigEnd = sigStart === -1 ? -1 : lines.indexOf("-----END PGP SIGNATURE-----", sigStart);
  if (sigStart === -1 || sigEnd === -1) {
    throw new DebFormatError("bad_signed_message", `${noun} is a signed message without a complete signature block`);
  }
  if (lines.slice(sigEnd + 1).some((l) => l.trim() !== "") || text.indexOf(BEGIN) !== text.lastIndexOf(BEGIN)) {
    throw new DebFormatError("bad_signed_message", `${noun} has text after its signature, or a second signed message`);
  }
  const body = lines.slice(start, sigStart).map((l) => (l.startsWith("- ") ? l.slice(2) : l));
  if (body.some((l) => l.startsWith("-"))) {
    throw new DebFormatError("bad_signed_message", `${noun} has a line starting with "-" that is not dash-escaped`);
  }
  return { text: `${body.join("\n")}\n`, signature: lines.slice(sigStart, sigEnd + 1).join("\n") };
}

function required(fields: ControlField[], name: string, noun: string): string {
  const value = controlField({ fields }, name);
  if (value === undefined || value === "")
    throw new DebFormatError("missing_field", `${noun} has no ${name} field`, name);
  if (value.includes("\n"))
    throw new DebFormatError("bad_field_syntax", `the ${name} field must be a single line`, name);
  return value;
}

function sourceName(fields: ControlField[], noun: string): string {
  const name = required(fields, "Source", noun);
  if (!PACKAGE_NAME.test(name)) {
    throw new DebFormatError(
      "bad_package_name",
      `"${truncate(name)}" is not a valid source package name: lowercase letters, digits, + - . only, at least two characters (Policy §5.6.1)`,
      "Source",
    );
  }
  return name;
}

function sourceVersion(fields: ControlField[], noun: string): string {
  const version = required(fields, "Version", noun);
  const parsed = parseVersion(version);
  if ("reason" in parsed) {
    throw new DebFormatError(
      "bad_version",
      `"${truncate(version)}" is not a valid Debian version: it ${parsed.reason} (Policy §5.6.12)`,
      "Version",
    );
  }
  return version;
}

/**
 * The files listed by `Files` (md5) and `Checksums-Sha256` (and `Checksums-Sha1` when present):
 * the same names with the same sizes in each, every name one safe path segment, listed once.
 * In a `.changes`, `Files` lines also carry section and priority (Policy §5.6.21).
 */
function checksummedFiles(fields: ControlField[], noun: string, changes: boolean): ListedFile[] {
  const md5 = checksumList(fields, "Files", noun, "md5", changes);
  const sha256 = checksumList(fields, "Checksums-Sha256", noun, "sha256", false);
  const sha1 =
    controlField({ fields }, "Checksums-Sha1") === undefined
      ? null
      : checksumList(fields, "Checksums-Sha1", noun, "sha1", false);
  const same = (list: Map<string, { size: number }>) =>
    list.size === md5.size && [...list].every(([name, e]) => md5.get(name)?.size === e.size);
  if (!same(sha256) || (sha1 !== null && !same(sha1))) {
    throw new DebFormatError(
      "checksum_lists_differ",
      `${noun}'s Files and Checksums lists do not name the same files with the same sizes`,
    );
  }
  return [...md5].map(([name, e]) => ({
    name,
    size: e.size,
    md5: e.hash,
    sha256: sha256.get(name)?.hash ?? "",
    ...(sha1 === null ? {} : { sha1: sha1.get(name)?.hash ?? "" }),
  }));
}

function checksumList(
  fields: ControlField[],
  name: string,
  noun: string,
  algorithm: keyof typeof HEX,
  withSectionAndPriority: boolean,
): Map<string, { hash: string; size: number }> {
  const value = controlField({ fields }, name);
  if (value === undefined) throw new DebFormatError("missing_field", `${noun} has no ${name} field`, name);
  const lines = value.split("\n").map((l) => l.trim());
  if (lines[0] !== "") throw new DebFormatError("bad_file_list", `${name} must start on the line after its name`, name);
  const entries = new Map<string, { hash: string; size: number }>();
  for (const line of lines.slice(1)) {
    const parts = line.split(/\s+/);
    const [hash = "", sizeText = "", ...rest] = parts;
    const file = rest.at(-1) ?? "";
    if (
      rest.length !== (withSectionAndPriority ? 3 : 1) ||
      !HEX[algorithm].test(hash) ||
      !/^\d{1,15}$/.test(sizeText)
    ) {
      throw new DebFormatError(
        "bad_file_list",
        `${name}: "${truncate(line)}" is not "${algorithm} size${withSectionAndPriority ? " section priority" : ""} name"`,
        name,
      );
    }
    if (!FILE_NAME.test(file) || file.includes("..")) {
      throw new DebFormatError(
        "bad_file_name",
        `${name}: "${truncate(file)}" is not a plain file name (no paths, no "..")`,
        name,
      );
    }
    if (entries.has(file)) throw new DebFormatError("bad_file_list", `${name} lists ${file} twice`, name);
    entries.set(file, { hash, size: Number(sizeText) });
    if (entries.size > SOURCE_LIMITS.files) {
      throw new DebFormatError("too_many_files", `${noun} lists more than ${SOURCE_LIMITS.files} files`, name);
    }
  }
  if (entries.size === 0) throw new DebFormatError("bad_file_list", `${name} lists no files`, name);
  return entries;
}

function truncate(text: string): string {
  const oneLine = text.replace(/\s+/g, " ");
  return oneLine.length > 64 ? `${oneLine.slice(0, 61)}...` : oneLine;
}
