/**
 * What the pages show, read from the repository's object once and then from the edge cache
 * (DESIGN.md §7: reads an edge cache can answer must not reach the object). Keys carry the
 * repository's scope, so a repository created again under a deleted one's id never finds its
 * predecessor's entries (DESIGN.md §4b), and, for what depends on a release, the release: an
 * activated release never changes, so its listing, its packages and its dists are kept for a year,
 * and a new activation is a new key. What changes without a new release (the keys, the
 * activation log, the repository's settings) is kept for `SHORT_TTL` seconds.
 */
import type { Context } from "hono";
import type { PackageListing, PackageMember } from "../../objects/repository/browse.ts";
import type { KeyConcern } from "../../objects/repository/key-policy.ts";
import type { KeySummary } from "../../schema/responses.ts";
import { ApiFailure, unwrap } from "../errors.ts";
import type { RepositoryRow } from "../repositories.ts";
import { repositoryStub } from "../stub.ts";

type Ctx = Context<{ Bindings: Env }>;

const IMMUTABLE_TTL = 31_536_000;
/** Seconds that keys, settings and the activation log may be shown after they changed. */
export const SHORT_TTL = 60;
/** Package names per page of the listing and of search results. */
export const LISTING_LIMIT = 50;

export interface DistSummary {
  dist: string;
  /** When its Release was generated: the Date apt sees. */
  generatedAt: string | null;
  signedBy: string | null;
  components: { component: string; architectures: { architecture: string; count: number }[] }[];
}

export interface ReleaseData {
  id: string;
  dists: DistSummary[];
}

export interface RepositoryMeta {
  id: string;
  baseUrl: string;
  retentionDays: number;
  keys: (KeySummary & { concerns: KeyConcern[] })[];
}

export interface HistoryData {
  releases: {
    id: string;
    state: string;
    parent: string | null;
    created_at: string;
    activated_at: string | null;
    retired_at: string | null;
  }[];
  activations: { release: string; previous: string | null; requested_at: string; visible_at: string | null }[];
}

export type PackageData = { found: true; members: PackageMember[]; linkable: string[] } | { found: false };

export interface Listing {
  packages: PackageListing[];
  more: boolean;
}

/** One page's reads: each answer, and whether every one of them came from the edge cache. */
export class PageData {
  readonly #c: Ctx;
  readonly #repo: RepositoryRow;
  #misses = 0;

  constructor(c: Ctx, repo: RepositoryRow) {
    this.#c = c;
    this.#repo = repo;
  }

  /** Whether every read so far was answered by the edge cache. */
  get cached(): boolean {
    return this.#misses === 0;
  }

  #stub() {
    return repositoryStub(this.#c.env, this.#repo.scope);
  }

  /** The dists of a release, their components and architectures with package counts. */
  release(release: string): Promise<ReleaseData> {
    return this.#cached(`release/${release}`, IMMUTABLE_TTL, async () => {
      const shown = unwrap(await this.#stub().showRelease(release));
      const dists = shown.dists.map((d): DistSummary => {
        const components = new Map<string, { architecture: string; count: number }[]>();
        for (const n of shown.counts.filter((n) => n.dist === d.dist)) {
          const list = components.get(n.component) ?? [];
          list.push({ architecture: n.architecture, count: n.count });
          components.set(n.component, list);
        }
        return {
          dist: d.dist,
          generatedAt: d.generated_at,
          signedBy: d.signed_by,
          components: [...components].map(([component, architectures]) => ({ component, architectures })),
        };
      });
      return { id: shown.id, dists };
    });
  }

  /** A page of the release's package names (containing `query` when it is not empty) after `after`. */
  listing(release: string, query: string, after: string): Promise<Listing> {
    const key = `listing/${release}?${new URLSearchParams({ q: query, after })}`;
    return this.#cached(key, IMMUTABLE_TTL, async () =>
      unwrap(await this.#stub().browsePackages(release, { query, after, limit: LISTING_LIMIT })),
    );
  }

  /** Every member of the release named `name`; a name the release lacks is kept as such too. */
  package(release: string, name: string): Promise<PackageData> {
    return this.#cached(`package/${release}/${name}`, IMMUTABLE_TTL, async () => {
      try {
        const { members, linkable } = unwrap(await this.#stub().packageDetails(release, name));
        return { found: true, members, linkable };
      } catch (e) {
        if (e instanceof ApiFailure && e.error.code === "package_not_found") return { found: false };
        throw e;
      }
    });
  }

  /** The repository's settings and keys. */
  meta(): Promise<RepositoryMeta> {
    return this.#cached("meta", SHORT_TTL, async () => {
      const stub = this.#stub();
      const [info, keys] = await Promise.all([stub.info(), stub.describeKeys()]);
      const i = unwrap(info);
      return { id: i.id, baseUrl: i.base_url, retentionDays: i.retention_days, keys: unwrap(keys).keys };
    });
  }

  /** Releases and the activation log, newest first. */
  history(): Promise<HistoryData> {
    return this.#cached(`history/${this.#repo.activeRelease ?? "-"}`, SHORT_TTL, async () => {
      const stub = this.#stub();
      const [releases, activations] = await Promise.all([stub.listReleases(), stub.activations()]);
      return {
        // The open release is a draft nobody is served: history is what apt has seen.
        releases: unwrap(releases).releases.filter((r) => r.state !== "open"),
        activations: unwrap(activations).activations,
      };
    });
  }

  async #cached<T>(path: string, ttl: number, load: () => Promise<T>): Promise<T> {
    const cache = caches.default;
    const key = `https://pages.armor.internal/${encodeURIComponent(this.#repo.scope)}/${path}`;
    const hit = await cache.match(key);
    if (hit) return (await hit.json()) as T;
    this.#misses += 1;
    const value = await load();
    this.#c.executionCtx.waitUntil(
      cache.put(key, Response.json(value, { headers: { "cache-control": `max-age=${ttl}` } })),
    );
    return value;
  }
}
