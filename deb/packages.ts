/**
 * Packages index rendering. Field order follows apt-ftparchive (apt-pkg/tagfile-order.c as
 * shipped in apt 2.6): the fields it knows in its canonical order, with Filename, Size and the
 * checksums slotted in before Homepage and Description, then any other field in file order.
 * Checksums are MD5sum and SHA256, as Debian's own indexes carry them.
 */
import type { ControlField } from "./control.ts";

const CANONICAL_ORDER = [
  "Package",
  "Package-Type",
  "Architecture",
  "Subarchitecture",
  "Version",
  "Revision",
  "Package-Revision",
  "Package_Revision",
  "Kernel-Version",
  "Built-Using",
  "Static-Built-Using",
  "Built-For-Profiles",
  "Auto-Built-Package",
  "Multi-Arch",
  "Status",
  "Priority",
  "Class",
  "Build-Essential",
  "Protected",
  "Important",
  "Essential",
  "Installer-Menu-Item",
  "Section",
  "Source",
  "Origin",
  "Phased-Update-Percentage",
  "Maintainer",
  "Original-Maintainer",
  "Bugs",
  "Config-Version",
  "Conffiles",
  "Triggers-Awaited",
  "Triggers-Pending",
  "Installed-Size",
  "Provides",
  "Pre-Depends",
  "Depends",
  "Recommends",
  "Recommended",
  "Suggests",
  "Optional",
  "Conflicts",
  "Breaks",
  "Replaces",
  "Enhances",
  "Filename",
  "MSDOS-Filename",
  "Size",
  "MD5sum",
  "SHA1",
  "SHA256",
  "SHA512",
  "Homepage",
  "Description",
  "Description-md5",
  "Tag",
  "Task",
];
const RANK = new Map(CANONICAL_ORDER.map((name, i) => [name.toLowerCase(), i]));

/** One package as an index lists it: its control fields and where and what its file is. */
export interface PackageEntry {
  fields: readonly ControlField[];
  filename: string;
  size: number;
  md5: string;
  sha256: string;
}

/** One stanza, ending in "\n" (no blank separator line). */
export function renderStanza(entry: PackageEntry): string {
  return joinStanza(renderStanzaParts(entry), entry.filename);
}

/**
 * A stanza cut around its Filename line: all of it depends on the package alone except Filename,
 * whose pool path depends on the component the package is listed in. The repository renders the
 * parts once, when a package is uploaded, so that generating an index only joins text.
 */
export interface StanzaParts {
  /** The fields apt-ftparchive puts before Filename. */
  head: string;
  /** Size, the checksums and every field after them. */
  tail: string;
}

const FILENAME_RANK = RANK.get("filename") as number;

export function renderStanzaParts(entry: Omit<PackageEntry, "filename">): StanzaParts {
  const fields: ControlField[] = [
    ...entry.fields,
    { name: "Size", value: String(entry.size) },
    { name: "MD5sum", value: entry.md5 },
    { name: "SHA256", value: entry.sha256 },
  ];
  const known: [number, ControlField][] = [];
  const other: ControlField[] = [];
  for (const f of fields) {
    const rank = RANK.get(f.name.toLowerCase());
    if (rank === undefined) other.push(f);
    else known.push([rank, f]);
  }
  known.sort((a, b) => a[0] - b[0]);
  let head = "";
  let tail = "";
  for (const [rank, f] of known) {
    if (rank < FILENAME_RANK) head += renderField(f);
    else tail += renderField(f);
  }
  for (const f of other) tail += renderField(f);
  return { head, tail };
}

/**
 * The Filename line between a stanza's parts: `before`, the pool path, `after`. The repository
 * joins stored parts in SQL with the same line (objects/repository/segments.ts), so it is spelled
 * once, here.
 */
export const FILENAME_LINE = { before: "Filename: ", after: "\n" } as const;

export function joinStanza(parts: StanzaParts, filename: string): string {
  return `${parts.head}${FILENAME_LINE.before}${filename}${FILENAME_LINE.after}${parts.tail}`;
}

function renderField(f: ControlField): string {
  // A value whose first line is empty (Conffiles-style) is written without the space.
  return f.value === "" || f.value.startsWith("\n") ? `${f.name}:${f.value}\n` : `${f.name}: ${f.value}\n`;
}

/**
 * Stream a whole Packages file: one stanza per yielded string, each followed by a blank line, as
 * apt-ftparchive writes it. Nothing but the current stanza is held in memory.
 */
export async function* renderPackages(
  entries: AsyncIterable<PackageEntry> | Iterable<PackageEntry>,
): AsyncGenerator<string> {
  for await (const entry of entries) yield `${renderStanza(entry)}\n`;
}
