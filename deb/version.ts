/**
 * Debian version numbers: syntax per Debian Policy §5.6.12 and ordering per dpkg's verrevcmp
 * (lib/dpkg/version.c), which apt implements identically.
 */

export interface DebianVersion {
  epoch: number;
  upstream: string;
  revision: string;
}

const EPOCH = /^[0-9]+$/;
// Upstream: starts with a digit; '-' only with a revision, ':' only with an epoch (§5.6.12).
const UPSTREAM_CHARS = /^[0-9][A-Za-z0-9.+~:-]*$/;
const REVISION = /^[A-Za-z0-9+.~]+$/;

/** Parse and validate; undefined with a reason when the string is not a valid Debian version. */
export function parseVersion(text: string): { version: DebianVersion } | { reason: string } {
  if (text.length === 0) return { reason: "is empty" };
  if (text.length > 256) return { reason: "is longer than 256 characters" };
  let rest = text;
  let epoch = 0;
  const colon = rest.indexOf(":");
  if (colon !== -1) {
    const e = rest.slice(0, colon);
    if (!EPOCH.test(e)) return { reason: "has an epoch that is not a number" };
    epoch = Number(e);
    if (!Number.isSafeInteger(epoch) || epoch > 0x7fffffff) return { reason: "has an epoch that is too large" };
    rest = rest.slice(colon + 1);
  }
  let revision = "";
  const dash = rest.lastIndexOf("-");
  if (dash !== -1) {
    revision = rest.slice(dash + 1);
    rest = rest.slice(0, dash);
    if (!REVISION.test(revision)) {
      return { reason: "has an empty revision or one with characters other than A-Za-z0-9+.~" };
    }
  }
  if (rest.length === 0) return { reason: "has an empty upstream version" };
  if (!/^[0-9]/.test(rest)) return { reason: "must start with a digit (after the epoch)" };
  if (!UPSTREAM_CHARS.test(rest)) return { reason: "has characters other than A-Za-z0-9.+~-:" };
  if (colon === -1 && rest.includes(":")) return { reason: "contains ':' without an epoch" };
  return { version: { epoch, upstream: rest, revision } };
}

/** The version as it appears in pool file names: without its epoch (Debian Policy §5.6.12). */
export function versionWithoutEpoch(text: string): string {
  const colon = text.indexOf(":");
  return colon === -1 ? text : text.slice(colon + 1);
}

/** dpkg's character order: '~' before everything (even the end), letters before non-letters. */
function order(code: number): number {
  if (code >= 0x30 && code <= 0x39) return 0;
  if ((code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a)) return code;
  if (code === 0x7e) return -1;
  if (Number.isNaN(code)) return 0;
  return code + 256;
}

function isDigit(code: number): boolean {
  return code >= 0x30 && code <= 0x39;
}

/** dpkg's verrevcmp: alternate non-digit runs (by `order`) and digit runs (numerically). */
function compareFragment(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    let firstDiff = 0;
    while ((i < a.length && !isDigit(a.charCodeAt(i))) || (j < b.length && !isDigit(b.charCodeAt(j)))) {
      const ac = order(a.charCodeAt(i));
      const bc = order(b.charCodeAt(j));
      if (ac !== bc) return ac - bc;
      i++;
      j++;
    }
    while (a.charCodeAt(i) === 0x30) i++;
    while (b.charCodeAt(j) === 0x30) j++;
    while (isDigit(a.charCodeAt(i)) && isDigit(b.charCodeAt(j))) {
      if (firstDiff === 0) firstDiff = a.charCodeAt(i) - b.charCodeAt(j);
      i++;
      j++;
    }
    if (isDigit(a.charCodeAt(i))) return 1;
    if (isDigit(b.charCodeAt(j))) return -1;
    if (firstDiff !== 0) return firstDiff;
  }
  return 0;
}

/** Compare two version strings as `dpkg --compare-versions` does: -1, 0 or 1. */
export function compareVersions(a: string, b: string): -1 | 0 | 1 {
  const va = splitLenient(a);
  const vb = splitLenient(b);
  const r =
    va.epoch !== vb.epoch
      ? va.epoch - vb.epoch
      : compareFragment(va.upstream, vb.upstream) || compareFragment(va.revision, vb.revision);
  return r < 0 ? -1 : r > 0 ? 1 : 0;
}

/** Split without validating, as dpkg does when comparing versions already in an index. */
function splitLenient(text: string): DebianVersion {
  const colon = text.indexOf(":");
  const epoch = colon === -1 ? 0 : Number(text.slice(0, colon)) || 0;
  const rest = colon === -1 ? text : text.slice(colon + 1);
  const dash = rest.lastIndexOf("-");
  return dash === -1
    ? { epoch, upstream: rest, revision: "" }
    : { epoch, upstream: rest.slice(0, dash), revision: rest.slice(dash + 1) };
}
