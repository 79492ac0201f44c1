/**
 * Sources index stanzas (Debian repository format, "Sources"): the `.dsc`'s fields with `Source`
 * renamed `Package`, plus what only the archive knows: `Directory` and the checksum lists of the
 * `.dsc` itself and every file it lists. Fields come in the order apt-ftparchive writes them
 * (apt's source field order, apt-pkg/tagfile-order.c), then any others as the `.dsc` had them, so
 * a stanza equals what `apt-ftparchive sources` writes for the same files.
 */
import type { ControlField } from "./control.ts";

/** A file of a source package as the repository stored it: every hash apt may check. */
export interface SourceFile {
  name: string;
  size: number;
  md5: string;
  sha1: string;
  sha256: string;
  sha512: string;
}

export interface SourceEntry {
  /** The `.dsc`'s fields, as parsed (deb/dsc.ts). */
  fields: ControlField[];
  /** The pool directory the files are in (`pool/main/h/hello`). */
  directory: string;
  /** The `.dsc` itself, listed first, then the files it lists in its order. */
  dsc: SourceFile;
  files: SourceFile[];
}

/** apt's order for source stanzas; a field not named here follows them in the `.dsc`'s order. */
const ORDER = [
  "package",
  "source",
  "format",
  "binary",
  "architecture",
  "version",
  "priority",
  "class",
  "section",
  "origin",
  "maintainer",
  "original-maintainer",
  "uploaders",
  "dm-upload-allowed",
  "standards-version",
  "build-depends",
  "build-depends-arch",
  "build-depends-indep",
  "build-conflicts",
  "build-conflicts-arch",
  "build-conflicts-indep",
  "testsuite",
  "testsuite-triggers",
  "homepage",
  "vcs-browser",
  "vcs-browse",
  "vcs-arch",
  "vcs-bzr",
  "vcs-cvs",
  "vcs-darcs",
  "vcs-git",
  "vcs-hg",
  "vcs-mtn",
  "vcs-svn",
  "directory",
  "package-list",
  "files",
  "checksums-md5",
  "checksums-sha1",
  "checksums-sha256",
  "checksums-sha512",
];
const RANK = new Map(ORDER.map((name, i) => [name, i]));
/** Written from the stored files, never copied from the `.dsc`. */
const COMPUTED = new Set([
  "files",
  "checksums-md5",
  "checksums-sha1",
  "checksums-sha256",
  "checksums-sha512",
  "directory",
]);

/** One Sources stanza, ending in "\n" (stanzas are joined with a blank line). */
export function renderSourceStanza(entry: SourceEntry): string {
  const all = [entry.dsc, ...entry.files];
  const list = (hash: (f: SourceFile) => string) => all.map((f) => `\n ${hash(f)} ${f.size} ${f.name}`).join("");
  const fields: ControlField[] = [
    ...entry.fields
      .filter((f) => !COMPUTED.has(f.name.toLowerCase()))
      .map((f) => (f.name.toLowerCase() === "source" ? { name: "Package", value: f.value } : f)),
    { name: "Directory", value: entry.directory },
    { name: "Files", value: list((f) => f.md5) },
    { name: "Checksums-Sha1", value: list((f) => f.sha1) },
    { name: "Checksums-Sha256", value: list((f) => f.sha256) },
    { name: "Checksums-Sha512", value: list((f) => f.sha512) },
  ];
  const ranked = fields
    .map((f, i) => ({ f, i, rank: RANK.get(f.name.toLowerCase()) ?? ORDER.length }))
    .sort((a, b) => a.rank - b.rank || a.i - b.i);
  return ranked
    .map(({ f }) => `${f.name}:${f.value.startsWith("\n") || f.value === "" ? "" : " "}${f.value}\n`)
    .join("");
}
