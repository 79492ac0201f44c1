/**
 * The binary package control file (DEBIAN/control): one deb822 paragraph, parsed and validated
 * per Debian Policy §5.1 (syntax) and §5.3/§5.6 (fields), strictly enough that nothing it contains
 * can forge a field or a paragraph when it is copied into a Packages index.
 */
import { PACKAGE_NAME } from "../schema/limits.ts";
import { DebFormatError, ok, type Result, refusal } from "./errors.ts";
import { parseVersion } from "./version.ts";

/** A parsed control paragraph: fields in file order, values as written (continuations kept). */
export interface Control {
  package: string;
  version: string;
  architecture: string;
  /** The source package name (from `Source:`, without its version), or the package name. */
  source: string;
  /** The source version when `Source:` names one in parentheses (binNMUs), else undefined. */
  sourceVersion?: string;
  fields: ControlField[];
}

export interface ControlField {
  name: string;
  /** The value: the first line without surrounding blanks, then "\n" + each continuation line. */
  value: string;
}

export const LIMITS = {
  /** The control file itself (not control.tar): generous for the longest real Descriptions. */
  controlFileBytes: 1024 * 1024,
  /** One field, name and value; real Provides/Depends lists stay far below this. */
  fieldBytes: 128 * 1024,
  fields: 200,
};

// Policy §5.1: field names are US-ASCII printable characters except ':' and must not start with
// '#' or '-'. Space and control characters are excluded by the character range.
const FIELD_NAME = /^[!-9;-~]+$/;
// Architecture names as dpkg-architecture prints them (amd64, arm64, hurd-i386, ...), or "all".
const ARCHITECTURE = /^[a-z0-9][a-z0-9-]*[a-z0-9]$/;

/**
 * Fields the index writer adds itself. A control file carrying them is refused rather than
 * silently rewritten: it is either broken or an attempt to forge the index's checksums.
 */
const RESERVED = new Set(["filename", "size", "md5sum", "sha1", "sha256", "sha512", "description-md5", "status"]);

// A byte-order mark is kept (ignoreBOM), so it surfaces as a bad field name instead of vanishing.
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Decode and parse the bytes of a control file. */
export function parseControlFile(bytes: Uint8Array): Result<Control> {
  if (bytes.length > LIMITS.controlFileBytes) {
    return refusal("control_file_too_large", `the control file is larger than ${LIMITS.controlFileBytes} bytes`);
  }
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return refusal("not_utf8", "the control file is not valid UTF-8 (Debian Policy §5.1 requires UTF-8)");
  }
  return parseControl(text);
}

/** Parse the text of a binary package's control file. */
export function parseControl(text: string): Result<Control> {
  try {
    return ok(validate(parseParagraph(text)));
  } catch (e) {
    if (e instanceof DebFormatError) return { ok: false, error: e.error };
    throw e;
  }
}

/** How one deb822 paragraph is read: what it is called in messages, and the fields it may not carry. */
export interface ParagraphRules {
  /** "the control file", "the .dsc": named in every message. */
  noun: string;
  /** Field names (lowercase) the repository writes itself; a paragraph carrying one is refused. */
  reserved: ReadonlySet<string>;
}

const BINARY_CONTROL: ParagraphRules = { noun: "the control file", reserved: RESERVED };

/**
 * Split exactly one deb822 paragraph into fields (Policy §5.1), strictly: no control characters,
 * no second paragraph, no comments, no duplicate or reserved field. Throws DebFormatError.
 */
export function parseParagraph(text: string, rules: ParagraphRules = BINARY_CONTROL): ControlField[] {
  const { noun } = rules;
  // NUL, DEL and C0 controls other than tab and newline never belong in a control file; a CR would
  // end a line for some readers and not for others, which is exactly how an index gets forged.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
  const bad = /[\0-\x08\x0b-\x1f\x7f]/.exec(text);
  if (bad) {
    const code = bad[0].charCodeAt(0);
    throw new DebFormatError(
      "forbidden_character",
      `${noun} contains the control character U+${code.toString(16).padStart(4, "0")}${code === 0 ? " (NUL)" : code === 13 ? " (carriage return)" : ""}`,
    );
  }
  const lines = text.split("\n");
  // One trailing newline ends the last line; further blank lines at the very end are tolerated
  // (dpkg-deb does the same), a blank line anywhere else would start a second paragraph.
  while (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  const fields: ControlField[] = [];
  const seen = new Set<string>();
  for (const [i, line] of lines.entries()) {
    const lineNo = i + 1;
    if (line === "") {
      throw new DebFormatError("multiple_paragraphs", `line ${lineNo} is empty: ${noun} holds exactly one paragraph`);
    }
    if (line[0] === " " || line[0] === "\t") {
      const last = fields[fields.length - 1];
      if (last === undefined) {
        throw new DebFormatError("bad_field_syntax", `line ${lineNo} is a continuation line with no field before it`);
      }
      if (line.trim() === "") {
        throw new DebFormatError(
          "empty_continuation_line",
          `line ${lineNo} (in ${last.name}) holds only whitespace; use " ." for an empty line in a description`,
          last.name,
        );
      }
      last.value += `\n${line.trimEnd()}`;
      checkLength(last);
      continue;
    }
    if (line[0] === "#") {
      throw new DebFormatError(
        "comment_in_control",
        `line ${lineNo} is a comment; comments are allowed only in source control files (Policy §5.1)`,
      );
    }
    const colon = line.indexOf(":");
    if (colon === -1) {
      throw new DebFormatError("bad_field_syntax", `line ${lineNo} is neither "Field: value" nor a continuation line`);
    }
    const name = line.slice(0, colon);
    if (!FIELD_NAME.test(name) || name[0] === "-") {
      throw new DebFormatError("bad_field_name", `line ${lineNo}: "${truncate(name)}" is not a valid field name`);
    }
    const key = name.toLowerCase();
    if (seen.has(key)) throw new DebFormatError("duplicate_field", `the field ${name} appears twice`, name);
    if (rules.reserved.has(key)) {
      throw new DebFormatError(
        "reserved_field",
        `${noun} must not contain ${name}: the repository computes it from the file`,
        name,
      );
    }
    seen.add(key);
    const field = { name, value: line.slice(colon + 1).trim() };
    checkLength(field);
    fields.push(field);
    if (fields.length > LIMITS.fields) {
      throw new DebFormatError("field_too_long", `${noun} has more than ${LIMITS.fields} fields`);
    }
  }
  return fields;
}

function checkLength(field: ControlField): void {
  if (field.name.length + field.value.length > LIMITS.fieldBytes) {
    throw new DebFormatError(
      "field_too_long",
      `the field ${field.name} is longer than ${LIMITS.fieldBytes} bytes`,
      field.name,
    );
  }
}

function validate(fields: ControlField[]): Control {
  const get = (name: string) => fields.find((f) => f.name.toLowerCase() === name.toLowerCase())?.value;
  const required = (name: string): string => {
    const value = get(name);
    if (value === undefined || value === "") {
      throw new DebFormatError("missing_field", `the control file has no ${name} field`, name);
    }
    if (value.includes("\n")) {
      throw new DebFormatError("bad_field_syntax", `the ${name} field must be a single line`, name);
    }
    return value;
  };
  const name = required("Package");
  const version = required("Version");
  const architecture = required("Architecture");
  if (!PACKAGE_NAME.test(name)) {
    throw new DebFormatError(
      "bad_package_name",
      `"${truncate(name)}" is not a valid package name: lowercase letters, digits, + - . only, at least two characters, starting with a letter or digit (Policy §5.6.1)`,
      "Package",
    );
  }
  checkVersion(version, "Version");
  if (!ARCHITECTURE.test(architecture) || architecture === "any" || architecture.endsWith("-any")) {
    throw new DebFormatError(
      "bad_architecture",
      `"${truncate(architecture)}" is not a binary package architecture (one Debian architecture name, or "all")`,
      "Architecture",
    );
  }
  const control: Control = { package: name, version, architecture, source: name, fields };
  const source = get("Source");
  if (source !== undefined) {
    // "Source: name" or "Source: name (version)" when the binary version differs (Policy §5.6.1).
    const m = /^([^\s(]+)(?:\s+\(([^()\s]+)\))?$/.exec(source);
    if (m === null || m[1] === undefined || !PACKAGE_NAME.test(m[1])) {
      throw new DebFormatError(
        "bad_source",
        `"${truncate(source)}" is not a valid Source field ("name" or "name (version)")`,
        "Source",
      );
    }
    control.source = m[1];
    if (m[2] !== undefined) {
      checkVersion(m[2], "Source");
      control.sourceVersion = m[2];
    }
  }
  return control;
}

function checkVersion(version: string, field: string): void {
  const parsed = parseVersion(version);
  if ("reason" in parsed) {
    throw new DebFormatError(
      "bad_version",
      `"${truncate(version)}" is not a valid Debian version: it ${parsed.reason} (Policy §5.6.12)`,
      field,
    );
  }
}

function truncate(text: string): string {
  const oneLine = text.replace(/\s+/g, " ");
  return oneLine.length > 64 ? `${oneLine.slice(0, 61)}...` : oneLine;
}

/** The value of a field by case-insensitive name (Policy §5.1: field names are not case-sensitive). */
export function controlField(control: Pick<Control, "fields">, name: string): string | undefined {
  const key = name.toLowerCase();
  return control.fields.find((f) => f.name.toLowerCase() === key)?.value;
}
