/**
 * Which requests under a repository root are for its web pages, decided before apt's path rules
 * run, from the path and `Accept` alone:
 *
 *   {root}/                      the repository page, for a request asking for HTML (a browser)
 *   {root}/-/packages/{name}     a package's page
 *   {root}/-/history             releases and activations
 *   {root}/{YYYYMMDDTHHMMSSZ}/   the repository page as it was at that instant (and its -/ pages)
 *
 * `-` is never a segment of apt's paths (Debian archive names start with a letter or digit, and
 * apt.ts refuses anything else), so nothing below `-/` can shadow a file apt fetches; those paths
 * answer HTML whatever `Accept` says. The root asks: apt never requests it, and any client that
 * does not ask for HTML (curl's wildcard, an API client) keeps the answer it had. Everything else,
 * dists/ and pool/ included, is apt's: a browser following a download link gets the file.
 */

export type PageView =
  | { kind: "repository" }
  | { kind: "package"; name: string }
  | { kind: "history" }
  | { kind: "missing" };

export interface PageRoute {
  /** The raw path of the repository root, without its trailing slash: "" on its hostname, "/owner/name" by path. */
  root: string;
  /** The snapshot ID the page is viewed at, or null for the repository as served now. */
  snapshot: string | null;
  view: PageView;
  /** Where the canonical URL is, when the request was not for it (the root without its slash). */
  redirect: string | null;
}

const SNAPSHOT = /^\d{8}T\d{6}Z$/;
const PACKAGE_NAME = /^[a-z0-9][a-z0-9+.-]*$/;

/**
 * The page `request` asks for, or null when it is apt's (or another route's). `rootSegments`: how
 * many path segments name the repository (2 for `/owner/name` on a platform host, 0 on its own).
 */
export function pageRoute(request: Request, rootSegments: number): PageRoute | null {
  if (request.method !== "GET" && request.method !== "HEAD") return null;
  const url = new URL(request.url);
  const parts = url.pathname.split("/").slice(1);
  if (parts.length < rootSegments) return null;
  const root = rootSegments === 0 ? "" : `/${parts.slice(0, rootSegments).join("/")}`;
  let rest = parts.slice(rootSegments);
  let snapshot: string | null = null;
  if (rest[0] !== undefined && SNAPSHOT.test(rest[0]) && (rest.length === 1 || rest[1] === "" || rest[1] === "-")) {
    snapshot = rest[0];
    rest = rest.slice(1);
  }
  const base = snapshot === null ? root : `${root}/${snapshot}`;
  // The repository (or snapshot) root: `…/` answers HTML to whoever asks for it; `…` without the
  // slash is sent there, so that every page has one URL.
  if (rest.length === 0 || (rest.length === 1 && rest[0] === "")) {
    if (!wantsHtml(request.headers.get("accept"))) return null;
    const redirect = rest.length === 0 ? `${base}/${url.search}` : null;
    return { root, snapshot, view: { kind: "repository" }, redirect };
  }
  if (rest[0] !== "-") return null;
  const [, area, name, ...more] = rest;
  if (area === "history" && name === undefined) return { root, snapshot, view: { kind: "history" }, redirect: null };
  if (area === "packages" && name !== undefined && more.length === 0) {
    let decoded: string | null = null;
    try {
      decoded = decodeURIComponent(name);
    } catch {
      // Not percent-encoding: no such package.
    }
    if (decoded !== null && PACKAGE_NAME.test(decoded)) {
      return { root, snapshot, view: { kind: "package", name: decoded }, redirect: null };
    }
  }
  return { root, snapshot, view: { kind: "missing" }, redirect: null };
}

/**
 * Whether `Accept` names HTML (RFC 9110 §12.5.1) with a weight above zero: what browsers send for
 * a page. A bare wildcard does not count: it is what curl and libraries send by default.
 */
export function wantsHtml(accept: string | null): boolean {
  if (accept === null) return false;
  for (const range of accept.split(",")) {
    const [type = "", ...params] = range.split(";").map((s) => s.trim().toLowerCase());
    if (type !== "text/html" && type !== "application/xhtml+xml") continue;
    const q = params.find((p) => p.startsWith("q="));
    if (q === undefined || Number(q.slice(2)) > 0) return true;
  }
  return false;
}
