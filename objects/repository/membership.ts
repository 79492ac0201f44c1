/**
 * What a release lists (DESIGN.md §2): adding uploaded packages to a dist and component of the
 * open release, removing them, listing a release, comparing two. Changes go into the open
 * release, opened from the active one when there is none; each marks what it touches dirty
 * (the indexes and chunks holding it, the dist's signature) and bumps the release's generation.
 * The rows are segments.ts's.
 */
import { isValidComponent, poolPath } from "../../deb/pool.ts";
import { LIST_MAX } from "../../schema/limits.ts";
import type {
  AddedPackages,
  MemberSummary,
  PackageList,
  ReleaseDiff,
  RemovedPackages,
} from "../../schema/responses.ts";
import { err, type Outcome, ok, refused } from "./outcome.ts";
import type { Packages } from "./packages.ts";
import { poolPathsTaken, poolPathTaken } from "./pool-paths.ts";
import type { Dists } from "./publishing/dists.ts";
import type { Indexes } from "./publishing/indexes.ts";
import type { Releases } from "./releases.ts";
import type { MemberRecord, Segments } from "./segments.ts";
import type { Settings } from "./settings.ts";

export class Membership {
  readonly #storage: DurableObjectStorage;
  readonly #segments: Segments;
  readonly #packages: Packages;
  readonly #releases: Releases;
  readonly #indexes: Indexes;
  readonly #dists: Dists;

  constructor(
    storage: DurableObjectStorage,
    parts: { segments: Segments; packages: Packages; releases: Releases; indexes: Indexes; dists: Dists },
  ) {
    this.#storage = storage;
    this.#segments = parts.segments;
    this.#packages = parts.packages;
    this.#releases = parts.releases;
    this.#indexes = parts.indexes;
    this.#dists = parts.dists;
  }

  /**
   * Add uploaded packages to a dist and component of the open release. All or nothing; packages
   * already there are reported unchanged, and a request that changes nothing opens no release.
   */
  add(
    s: Settings,
    input: { release: string | null; dist: string; component: string; packages: string[] },
  ): Outcome<AddedPackages> {
    const target = this.#releases.mutable(input.release);
    if (target) return target;
    if (!isValidComponent(input.component)) {
      return err("invalid_request", `"${input.component}" is not a valid component name (e.g. main or stable/v17)`);
    }
    // Read in a few statements per thousand packages, never a few per package (ingest adds tens of thousands).
    const wanted = [...new Set(input.packages)];
    const held = this.#packages.keys(wanted);
    const records = wanted.flatMap((sha) => held.get(sha) ?? []);
    const missing = wanted.filter((sha) => !held.has(sha));
    if (missing.length > 0) {
      return err(
        "package_not_found",
        `${missing.length} package(s) are not uploaded to this repository; upload them first`,
        {
          missing,
        },
      );
    }
    const names = [...new Set(records.map((p) => p.name))];
    const bound = new Map<string, string>(
      s.mayReuseVersions
        ? []
        : this.#packages.bindingsOf(names).map((b) => [`${b.name} ${b.version} ${b.architecture}`, b.sha256]),
    );
    const seen = new Map<string, string>();
    const paths = new Map<string, MemberRecord>();
    const members: MemberRecord[] = [];
    for (const p of records) {
      const key = `${p.name} ${p.version} ${p.architecture}`;
      const other = seen.get(key);
      if (other !== undefined) {
        return err("invalid_request", `two files in this request are ${key}: ${other} and ${p.sha256}`);
      }
      seen.set(key, p.sha256);
      const binding = bound.get(key);
      const conflict =
        binding === undefined || binding === p.sha256
          ? null
          : this.#packages.versionConflict(s, p.name, p.version, p.architecture, p.sha256);
      if (conflict) return conflict;
      const path = poolPath(input.component, {
        package: p.name,
        version: p.version,
        architecture: p.architecture,
        source: p.source,
      });
      if (!path.ok) return err("invalid_request", path.error.message);
      const member: MemberRecord = {
        dist: input.dist,
        component: input.component,
        name: p.name,
        version: p.version,
        architecture: p.architecture,
        sha256: p.sha256,
        poolPath: path.value,
      };
      const sharing = paths.get(member.poolPath);
      if (sharing !== undefined) return refused(poolPathTaken(member, sharing, "in this request"));
      paths.set(member.poolPath, member);
      members.push(member);
    }
    const sizes = new Map(records.map((p) => [p.sha256, p.size]));
    const summary = (m: MemberRecord) => summarizeMember(m, sizes.get(m.sha256) ?? 0);

    const base = this.#releases.current();
    const taken = poolPathsTaken(this.#segments, s, base, members);
    if (taken) return refused(taken);
    const inBaseNow =
      base === null
        ? new Map<string, string>()
        : this.#segments.membersNamed(base.id, input.dist, input.component, names);
    const inBase = (m: MemberRecord) => inBaseNow.get(`${m.name} ${m.version} ${m.architecture}`) === m.sha256;
    const changes = members.filter((m) => !inBase(m));
    const unchanged = members.filter(inBase).map(summary);
    if (changes.length === 0) {
      return ok({ release: base?.id ?? "", generation: base?.generation ?? 0, added: [], unchanged });
    }
    const release = this.#storage.transactionSync(() => {
      const open = this.#releases.open();
      this.#segments.put(open.id, changes);
      this.#indexes.markDirty(open.id, changes);
      this.#dists.touch(open.id, input.dist);
      return { id: open.id, generation: this.#releases.bumpGeneration(open.id) };
    });
    return ok({ release: release.id, generation: release.generation, added: changes.map(summary), unchanged });
  }

  /** Remove packages from a dist of the open release (opened from the active one if none). */
  remove(input: {
    release: string | null;
    dist: string;
    component: string | null;
    name: string;
    version: string | null;
    architecture: string | null;
  }): Outcome<RemovedPackages> {
    const target = this.#releases.mutable(input.release);
    if (target) return target;
    const base = this.#releases.current();
    const matches = base === null ? [] : this.#segments.matchingMembers(base.id, input.dist, input);
    if (matches.length === 0) {
      const what = [input.name, input.version, input.architecture].filter((x) => x !== null).join(" ");
      return err("package_not_found", `no package matching "${what}" in dist ${input.dist}`);
    }
    const release = this.#storage.transactionSync(() => {
      const open = this.#releases.open();
      this.#segments.remove(open.id, matches);
      this.#indexes.markDirty(open.id, matches);
      this.#dists.touch(open.id, input.dist);
      return { id: open.id, generation: this.#releases.bumpGeneration(open.id) };
    });
    const removed = matches.map((m) => this.#summary(m));
    return ok({ release: release.id, generation: release.generation, removed });
  }

  /** List packages of a release (default: the open one, else the active one), filtered. */
  list(filter: {
    release: string | null;
    dist: string | null;
    component: string | null;
    architecture: string | null;
    name: string | null;
  }): Outcome<PackageList> {
    const release = filter.release === null ? this.#releases.current() : this.#releases.get(filter.release);
    if (release === null) {
      if (filter.release !== null) return err("release_not_found", `no release ${filter.release} in this repository`);
      return ok({ release: null, packages: [], truncated: false });
    }
    const rows = this.#segments.listMembers(release.id, filter, LIST_MAX + 1);
    const packages = rows.slice(0, LIST_MAX).map((m) => this.#summary(m));
    return ok({ release: release.id, packages, truncated: rows.length > LIST_MAX });
  }

  /** Packages in `to` but not in `from` (added) and the reverse (removed). */
  diff(from: string, to: string): Outcome<ReleaseDiff> {
    for (const id of [from, to]) {
      if (this.#releases.get(id) === null) return err("release_not_found", `no release ${id} in this repository`);
    }
    return ok({
      from,
      to,
      added: this.#segments.membersOnlyIn(to, from, LIST_MAX).map((m) => this.#summary(m)),
      removed: this.#segments.membersOnlyIn(from, to, LIST_MAX).map((m) => this.#summary(m)),
      added_count: this.#segments.countMembersOnlyIn(to, from),
      removed_count: this.#segments.countMembersOnlyIn(from, to),
    });
  }

  #summary(m: MemberRecord): MemberSummary {
    return summarizeMember(m, this.#packages.package(m.sha256)?.size ?? 0);
  }
}

function summarizeMember(m: MemberRecord, size: number): MemberSummary {
  return {
    sha256: m.sha256,
    name: m.name,
    version: m.version,
    architecture: m.architecture,
    size,
    dist: m.dist,
    component: m.component,
    filename: m.poolPath,
  };
}
