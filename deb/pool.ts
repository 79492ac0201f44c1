/**
 * Where a package lives in the archive: pool/{component}/{prefix}/{source}/{file}.deb, the layout
 * dak, reprepro and aptly share (Debian repository format, "pool" directory).
 */
import type { Control } from "./control.ts";
import { fail, ok, type Result } from "./errors.ts";
import { versionWithoutEpoch } from "./version.ts";

// Components are single path segments here (no "updates/main" style nesting).
const COMPONENT = /^[a-z0-9][a-z0-9.+-]*$/;

/** A component name is safe to use as one path segment and as a Release `Components` entry. */
export function isValidComponent(component: string): boolean {
  return component.length <= 64 && COMPONENT.test(component);
}

/** "libzstd" → "libz", "hello" → "h": library sources are split by their first four letters. */
export function poolPrefix(source: string): string {
  return source.startsWith("lib") && source.length > 3 ? source.slice(0, 4) : source.slice(0, 1);
}

/** The file name dpkg-name would give: name_version-without-epoch_arch.deb. */
export function debFileName(control: Pick<Control, "package" | "version" | "architecture">): string {
  return `${control.package}_${versionWithoutEpoch(control.version)}_${control.architecture}.deb`;
}

/** The pool path of a package in `component`, taken from its (already validated) control data. */
export function poolPath(
  component: string,
  control: Pick<Control, "package" | "version" | "architecture" | "source">,
): Result<string> {
  if (!isValidComponent(component)) {
    return fail(
      "bad_component",
      `"${component}" is not a valid component name (lowercase letters, digits, + - . only; e.g. main)`,
    );
  }
  return ok(`pool/${component}/${poolPrefix(control.source)}/${control.source}/${debFileName(control)}`);
}
