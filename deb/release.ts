/**
 * The Release file of one dist (Debian repository format, "Release files"; apt-secure(8)).
 * It is small (a few lines per index file), so it is rendered as one string: the text the
 * client signs must be byte-identical to what the server generated. `validateReleaseText` is the
 * client's check, before signing, that a text is one the server could have generated.
 */
import { DebFormatError, ok, type Result } from "./errors.ts";

export interface ReleaseFile {
  /** Path relative to dists/{suite}/, e.g. "main/binary-amd64/Packages.gz". */
  path: string;
  size: number;
  /** MD5Sum and SHA512 may be left out per file: apt verifies with the strongest hash listed for it. */
  md5?: string;
  sha256: string;
  sha512?: string;
}

export interface ReleaseInput {
  origin: string;
  label: string;
  suite: string;
  codename: string;
  date: Date;
  validUntil?: Date;
  architectures: readonly string[];
  components: readonly string[];
  description: string;
  /** apt fetches indexes by hash (dists/…/by-hash/SHA256/{hex}) when this is true. */
  acquireByHash: boolean;
  /** URL template with @SNAPSHOTID@ where apt puts a YYYYMMDDTHHMMSSZ timestamp (apt ≥ 2.7). */
  snapshots?: string;
  /** Fingerprints of the keys allowed to sign this dist (apt ≥ 2.3 honours this field). */
  signedBy?: readonly string[];
  files: readonly ReleaseFile[];
}

/** RFC 2822 date in UTC, as dak writes it: "Sat, 11 Jul 2026 10:16:37 UTC". */
export function releaseDate(date: Date): string {
  return date.toUTCString().replace(/GMT$/, "UTC");
}

export function renderRelease(input: ReleaseInput): string {
  for (const [name, value] of [
    ["Origin", input.origin],
    ["Label", input.label],
    ["Suite", input.suite],
    ["Codename", input.codename],
    ["Description", input.description],
    ["Snapshots", input.snapshots ?? ""],
  ] as const) {
    // biome-ignore lint/suspicious/noControlCharactersInRegex: a newline here would forge a field.
    if (/[\0-\x1f\x7f]/.test(value)) throw new Error(`Release ${name} must be one line of text`);
  }
  const lines = [
    `Origin: ${input.origin}`,
    `Label: ${input.label}`,
    `Suite: ${input.suite}`,
    `Codename: ${input.codename}`,
    `Date: ${releaseDate(input.date)}`,
  ];
  if (input.validUntil) lines.push(`Valid-Until: ${releaseDate(input.validUntil)}`);
  // A dist whose last package was removed has neither: the field goes rather than being left
  // empty, since "Architectures: " would end in a space that the clearsigned InRelease drops
  // (RFC 9580 §7.2), and InRelease would no longer hold this text.
  if (input.architectures.length > 0) lines.push(`Architectures: ${input.architectures.join(" ")}`);
  if (input.components.length > 0) lines.push(`Components: ${input.components.join(" ")}`);
  lines.push(`Description: ${input.description}`);
  if (input.acquireByHash) lines.push("Acquire-By-Hash: yes");
  if (input.snapshots) lines.push(`Snapshots: ${input.snapshots}`);
  if (input.signedBy && input.signedBy.length > 0) lines.push(`Signed-By: ${input.signedBy.join(", ")}`);
  const files = [...input.files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const list = (title: string, hash: (f: ReleaseFile) => string | undefined) => {
    const rows = files.flatMap((f) => {
      const h = hash(f);
      return h === undefined ? [] : [` ${h} ${String(f.size).padStart(16)} ${f.path}`];
    });
    if (rows.length > 0) lines.push(`${title}:`, ...rows);
  };
  list("MD5Sum", (f) => f.md5);
  list("SHA256", (f) => f.sha256);
  list("SHA512", (f) => f.sha512);
  return `${lines.join("\n")}\n`;
}

/** deb822 field names (Debian Policy §5.1): printable US-ASCII but ":", not starting with "#" or "-". */
const FIELD_NAME = /^[!-9;-~]+$/;
/** RFC 1123 dates in UTC, as dak and renderRelease write them (apt reads them with RFC1123StrToTime). */
const RELEASE_DATE =
  /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), [0-9]{1,2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} (UTC|GMT|\+0000)$/;
/** The checksum lists of a Release (Debian repository format wiki, "Release files") and their digest sizes. */
const CHECKSUM_FIELDS: Record<string, number> = { md5sum: 32, sha1: 40, sha256: 64, sha512: 128 };

/**
 * Whether a Release text is one the server could have generated, checked before it is signed
 * (`armor index sign`, `armor publish`): one deb822 paragraph with
 * Suite or Codename, an RFC 1123 Date, and checksum lists (SHA256 at least, which apt requires) of
 * " <hex> <size> <path>" lines; "\n" line endings, exactly one at the end, no blank line.
 * Also refused, though the clearsign framework could carry them: lines starting with "-" (they would be
 * dash-escaped, and no deb822 line starts so) and trailing whitespace, which a cleartext signature does
 * not cover (RFC 9580 §7.2) and openpgp.js drops, so the signed text would differ from the Release.
 * The refusal (`malformed_release`) names the first problem and its line.
 */
export function validateReleaseText(text: string): Result<void> {
  try {
    checkLines(text);
    return ok(undefined);
  } catch (error) {
    if (error instanceof DebFormatError) return { ok: false, error: error.error };
    throw error;
  }
}

function checkLines(text: string): void {
  if (text === "") bad("it is empty");
  const cr = text.indexOf("\r");
  if (cr !== -1) bad(`line ${lineOf(text, cr)} has a carriage return; a Release uses "\\n" line endings`);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
  const control = /[\0-\x08\x0b-\x1f\x7f]/.exec(text);
  if (control) {
    const code = control[0].charCodeAt(0).toString(16).padStart(4, "0");
    bad(`line ${lineOf(text, control.index)} has the control character U+${code}`);
  }
  if (!text.endsWith("\n")) bad("it does not end with a newline");
  const lines = text.slice(0, -1).split("\n");
  const fields = new Map<string, { name: string; line: number; value: string; continuations: number[] }>();
  let current: { continuations: number[] } | undefined;
  for (const [i, line] of lines.entries()) {
    const n = i + 1;
    if (line === "") bad(`line ${n} is blank; a Release is one paragraph`);
    if (line.startsWith("-")) bad(`line ${n} starts with "-", which is neither a field nor a continuation line`);
    if (/[ \t]$/.test(line)) bad(`line ${n} ends with whitespace, which a clearsigned signature does not cover`);
    if (line.startsWith(" ") || line.startsWith("\t")) {
      if (current === undefined) bad(`line ${n} is a continuation line with no field before it`);
      current.continuations.push(n);
      continue;
    }
    const colon = line.indexOf(":");
    const name = line.slice(0, Math.max(colon, 0));
    if (colon <= 0 || !FIELD_NAME.test(name) || name.startsWith("#")) {
      bad(`line ${n} is neither "Field: value" nor a continuation line: ${clip(line)}`);
    }
    const key = name.toLowerCase();
    if (fields.has(key)) bad(`the field ${name} appears twice (line ${n})`);
    current = { continuations: [] };
    fields.set(key, { name, line: n, value: line.slice(colon + 1).trim(), ...current });
  }
  if (!fields.has("suite") && !fields.has("codename")) bad("it has neither a Suite nor a Codename field");
  for (const name of ["Date", "Valid-Until"]) {
    const field = fields.get(name.toLowerCase());
    if (field === undefined) {
      if (name === "Date") bad("it has no Date field");
      continue;
    }
    if (!RELEASE_DATE.test(field.value) || Number.isNaN(Date.parse(field.value))) {
      bad(`${name} (line ${field.line}) is not a date like "Sat, 11 Jul 2026 10:16:37 UTC": ${clip(field.value)}`);
    }
  }
  const sha256 = fields.get("sha256");
  if (sha256 === undefined || sha256.continuations.length === 0) bad("it has no SHA256 list of index files");
  for (const [key, hexLength] of Object.entries(CHECKSUM_FIELDS)) {
    const field = fields.get(key);
    if (field === undefined) continue;
    if (field.value !== "") bad(`${field.name} (line ${field.line}) must have its entries on the lines after it`);
    const entry = new RegExp(`^ [0-9a-f]{${hexLength}} +[0-9]+ [^\\s/][^\\s]*$`);
    for (const n of field.continuations) {
      const line = lines[n - 1] ?? "";
      if (!entry.test(line) || line.split(" ").at(-1)?.split("/").includes("..")) {
        bad(`line ${n} in ${field.name} is not " <${hexLength} hex digits> <size> <path>": ${clip(line)}`);
      }
    }
  }
}

function bad(what: string): never {
  throw new DebFormatError("malformed_release", what);
}

function lineOf(text: string, index: number): number {
  let line = 1;
  for (let i = text.indexOf("\n"); i !== -1 && i < index; i = text.indexOf("\n", i + 1)) line++;
  return line;
}

function clip(text: string): string {
  return JSON.stringify(text.length > 60 ? `${text.slice(0, 57)}...` : text);
}
