/**
 * apt's side (DESIGN.md §5): dists files of the active release, by-hash files and pool files of any
 * release within retention, `{YYYYMMDDTHHMMSSZ}/…` snapshots, and the archive keyring.
 *
 * The object is asked once per (release, path): what it answers is immutable (a release never
 * changes once active), so the answer and the bytes are kept in the Cache API, keyed by the
 * repository's scope (its id and creation id: release ids start again at r1 in a repository created
 * under a deleted one's id, and must never find its predecessor's entries), and a hot file is
 * served from the edge without touching the object or R2 again. (The Cache API is a no-op on
 * workers.dev hosts; on a custom domain it is the colo's cache.)
 */
import type { Context } from "hono";
import { toHex } from "../../deb/hash.ts";
import type { FileRef } from "../../objects/repository/repository-object.ts";
import { blobKey, concatenatedBlobs } from "../../r2/blobs.ts";
import { apiError } from "../../schema/errors.ts";
import { authorize } from "../access.ts";
import { ApiFailure, fail, unwrap } from "../errors.ts";
import type { RepositoryRow } from "../repositories.ts";
import { type BodySource, serveFile, sliceStream } from "../serve/file-response.ts";
import { repositoryStub } from "../stub.ts";

type Ctx = Context<{ Bindings: Env }>;

const MUTABLE = "max-age=1800, proxy-revalidate";
const IMMUTABLE = "max-age=31536000, immutable";
/** Bytes above this are streamed from R2 rather than copied into the cache beside the response. */
const CACHE_BYTES_LIMIT = 64 * 1024 * 1024;
const SNAPSHOT = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;
// A segment apt could ask for: file and directory names of a Debian archive.
const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._+~:-]*$/;

/**
 * Split and check a request path below the repository root. Anything that could climb out of it
 * (encoded slashes or dots, backslashes, empty segments) is refused before any lookup.
 */
export function aptSegments(rawPath: string): string[] {
  const segments = rawPath.split("/").filter((s, i, all) => !(s === "" && (i === 0 || i === all.length - 1)));
  return segments.map((raw) => {
    let s: string;
    try {
      s = decodeURIComponent(raw);
    } catch {
      return fail("invalid_path", "the path is not valid percent-encoding");
    }
    if (!SEGMENT.test(s) || s === "." || s === "..") {
      return fail("invalid_path", `"${raw}" is not a valid path segment in a Debian archive`);
    }
    return s;
  });
}

/** Serve one path of `repo` (already split by `aptSegments`). */
export async function serveApt(c: Ctx, repo: RepositoryRow, segments: string[]): Promise<Response> {
  const method = c.req.method;
  if (method !== "GET" && method !== "HEAD") {
    throw new ApiFailure(apiError("method_not_allowed", `apt paths answer GET and HEAD only, not ${method}`), {
      allow: "GET, HEAD",
    });
  }
  await authorize(c, repo, "read");
  const [first, ...rest] = segments;
  if (first === undefined)
    return fail("not_found", `repository ${repo.id} is served here; apt paths start with dists/ or pool/`);
  if (segments.length === 1 && (first === "archive-keyring.asc" || first === "archive-keyring.gpg")) {
    return serveKeyring(c, repo, first);
  }
  const snapshot = SNAPSHOT.exec(first);
  if (snapshot) {
    const { release, settled } = await snapshotRelease(c, repo, first, snapshot);
    return serveReleasePath(c, repo, release, rest, settled);
  }
  if (repo.activeRelease === null) {
    return fail("not_found", `repository ${repo.id} has not published a release yet`);
  }
  return serveReleasePath(c, repo, repo.activeRelease, segments, false);
}

async function serveReleasePath(
  c: Ctx,
  repo: RepositoryRow,
  release: string,
  segments: string[],
  settled: boolean,
): Promise<Response> {
  const path = segments.join("/");
  if (segments[0] !== "dists" && segments[0] !== "pool") {
    return fail("not_found", `no file ${path} in repository ${repo.id}`);
  }
  const cache = caches.default;
  const refKey = cacheUrl(`ref/${repo.scope}/${release}/${path}`);
  let ref: FileRef | null = null;
  let refCached = false;
  const hit = await cache.match(refKey);
  if (hit) {
    ref = (await hit.json()) as FileRef;
    refCached = true;
  } else {
    ref = await repositoryStub(c.env, repo.scope).resolve(release, path);
    if (ref !== null) {
      c.executionCtx.waitUntil(
        cache.put(refKey, Response.json(ref, { headers: { "cache-control": "max-age=31536000" } })),
      );
    }
  }
  if (ref === null) return fail("not_found", `no file ${path} in repository ${repo.id}`);
  const byHash = segments.includes("by-hash");
  const cacheControl = settled || byHash || (segments[0] === "pool" && ref.immutable) ? IMMUTABLE : MUTABLE;
  const found = ref;
  const blobCache = cacheUrl(`blob/${repo.scope}/${found.sha256}`);
  let bytesCached = false;
  const body: BodySource = async (range) => {
    const cached = await cache.match(blobCache);
    if (cached?.body) {
      bytesCached = true;
      return range ? sliceStream(cached.body, range.offset, range.length) : cached.body;
    }
    if (cached) await cached.body?.cancel();
    let stored: ReadableStream<Uint8Array>;
    if (found.parts) {
      // A large index's Packages.gz: its chunks' gzip members, back to back (index-writer.ts).
      stored = concatenatedBlobs(c.env.BLOBS, repo.scope, found.parts, range ?? undefined);
    } else {
      const object = await c.env.BLOBS.get(blobKey(repo.scope, found.sha256), range ? { range } : {});
      if (object === null) return null;
      stored = object.body;
    }
    if (range || found.size > CACHE_BYTES_LIMIT || c.req.method !== "GET") return stored;
    const [forClient, forCache] = stored.tee();
    c.executionCtx.waitUntil(
      cache.put(
        blobCache,
        new Response(forCache.pipeThrough(new FixedLengthStream(found.size)), {
          headers: { "cache-control": "max-age=31536000", "content-length": String(found.size) },
        }),
      ),
    );
    return forClient;
  };
  const response = await serveFile(
    c.req.raw,
    {
      sha256: found.sha256,
      size: found.size,
      lastModified: new Date(found.lastModified),
      contentType: contentTypeOf(segments),
      cacheControl,
    },
    body,
  );
  if (response === null) {
    console.error(`blob ${found.sha256} of ${repo.id} is missing from R2 (run fsck)`);
    return fail("not_found", `no file ${path} in repository ${repo.id}`);
  }
  response.headers.set(
    "x-armor-cache",
    refCached && (bytesCached || response.status === 304 || c.req.method === "HEAD") ? "hit" : "miss",
  );
  return response;
}

/**
 * `YYYYMMDDTHHMMSSZ` → the release active at that instant (snapshot.debian.org's URL form), and
 * whether that answer is settled. Any timestamp is a snapshot ID (apt 2.7+ `Snapshot:` lets a user
 * name one): an instant not yet past names the release active now, which is not settled, since
 * another may still activate within that second or later, so it is served like the dists files
 * (revalidated), never as immutable.
 */
async function snapshotRelease(
  c: Ctx,
  repo: RepositoryRow,
  stamp: string,
  m: RegExpExecArray,
): Promise<{ release: string; settled: boolean }> {
  const [, y, mo, d, h, mi, s] = m.map(Number);
  const at = Date.UTC(y ?? 0, (mo ?? 1) - 1, d ?? 0, h ?? 0, mi ?? 0, s ?? 0);
  if (Number.isNaN(at) || new Date(at).toISOString().slice(0, 19).replace(/[-:]/g, "") !== stamp.slice(0, 15)) {
    return fail("invalid_path", `${stamp} is not a valid timestamp (YYYYMMDDTHHMMSSZ)`);
  }
  // The end of the named second: what was active at any moment of it.
  const end = at + 999;
  if (end >= Date.now()) {
    if (repo.activeRelease === null) {
      return fail("snapshot_not_found", `no release of repository ${repo.id} has been activated yet`);
    }
    return { release: repo.activeRelease, settled: false };
  }
  const cache = caches.default;
  const key = cacheUrl(`snapshot/${repo.scope}/${stamp}`);
  const hit = await cache.match(key);
  if (hit) return { release: await hit.text(), settled: true };
  const release = unwrap(await repositoryStub(c.env, repo.scope).releaseAt(end));
  c.executionCtx.waitUntil(cache.put(key, new Response(release, { headers: { "cache-control": "max-age=3600" } })));
  return { release, settled: true };
}

/**
 * The release a snapshot ID names, resolved as apt's `{YYYYMMDDTHHMMSSZ}/…` paths resolve it (and
 * cached the same way): what the web pages show at `{root}/{snapshot}/` (worker/pages/).
 */
export function releaseAtSnapshot(
  c: Ctx,
  repo: RepositoryRow,
  stamp: string,
): Promise<{ release: string; settled: boolean }> {
  const m = SNAPSHOT.exec(stamp);
  if (m === null) return fail("invalid_path", `${stamp} is not a valid timestamp (YYYYMMDDTHHMMSSZ)`);
  return snapshotRelease(c, repo, stamp, m);
}

async function serveKeyring(c: Ctx, repo: RepositoryRow, file: string): Promise<Response> {
  const ring = await repositoryStub(c.env, repo.scope).keyring();
  if (ring === null) return fail("not_found", `repository ${repo.id} has no trusted keys yet`);
  const bytes = file.endsWith(".asc") ? new TextEncoder().encode(ring.armored) : ring.binary;
  const sha256 = toHex(await crypto.subtle.digest("SHA-256", bytes));
  const response = await serveFile(
    c.req.raw,
    {
      sha256,
      size: bytes.length,
      lastModified: new Date(ring.updatedAt),
      contentType: file.endsWith(".asc") ? "application/pgp-keys" : "application/octet-stream",
      cacheControl: MUTABLE,
    },
    async (range) => {
      const slice = range ? bytes.subarray(range.offset, range.offset + range.length) : bytes;
      return new Response(slice).body;
    },
  );
  if (response === null) throw new Error("in-memory keyring body was null");
  return response;
}

function contentTypeOf(segments: string[]): string {
  const name = segments.at(-1) ?? "";
  if (segments.includes("by-hash")) return "application/octet-stream";
  if (name.endsWith(".deb")) return "application/vnd.debian.binary-package";
  if (name.endsWith(".gz")) return "application/gzip";
  if (name.endsWith(".gpg")) return "application/pgp-signature";
  if (name === "InRelease" || name === "Release" || name === "Packages") return "text/plain; charset=utf-8";
  return "application/octet-stream";
}

/** Cache API keys live under a host nobody can request, so they never collide with a real URL. */
function cacheUrl(path: string): string {
  return `https://cache.armor.internal/${path}`;
}
