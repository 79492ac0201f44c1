/**
 * The Release file of one dist (Debian repository format, "Release files"; apt-secure(8)).
 * It is small (a few lines per index file), so it is rendered as one string: the text the
 * client signs must be byte-identical to what the server generated.
 */

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
