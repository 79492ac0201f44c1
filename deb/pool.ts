/**
 * Where a package lives in the archive: pool/{component}/{prefix}/{source}/{file}.deb, the layout
 * dak, reprepro and aptly share (Debian repository format, "pool" directory).
 */
import type { Control } from "./control.ts";
import { ok, type Result, refusal } from "./errors.ts";
import { versionWithoutEpoch } from "./version.ts";

/** One segment of a component name: what Debian's archives use (main, contrib, non-free-firmware). */
const COMPONENT_SEGMENT = /^[a-z0-9][a-z0-9.+-]{0,63}$/;
/** Segments a component may have: `stable/v17`, as the security archive's `updates/main`, and a little deeper. */
export const COMPONENT_MAX_DEPTH = 4;

/**
 * A component name is safe as a Release `Components` entry and as the path below `dists/{suite}/`
 * and `pool/`: one or more segments joined by "/" (Debian allows slashes in components: apt fetches
 * `dists/{suite}/{component}/binary-{arch}/Packages`), each a valid segment, so none is empty, "."
 * or "..", and at most COMPONENT_MAX_DEPTH of them.
 */
export function isValidComponent(component: string): boolean {
  const segments = component.split("/");
  return segments.length <= COMPONENT_MAX_DEPTH && segments.every((s) => COMPONENT_SEGMENT.test(s));
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
    return refusal(
      "bad_component",
      `"${component}" is not a valid component name (segments of lowercase letters, digits, + - . joined by "/", at most ${COMPONENT_MAX_DEPTH}; e.g. main or stable/v17)`,
    );
  }
  return ok(`pool/${component}/${poolPrefix(control.source)}/${control.source}/${debFileName(control)}`);
}
