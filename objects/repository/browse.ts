/**
 * What the repository's web pages read (worker/pages/): the package names of a release with their
 * newest version, one package's every member with its control fields, and which of a list of
 * names a release holds. Reads only, over the membership tables (migration 3, 7), with bound
 * parameters; a concern module of its own, as STYLE.md asks, taking the object's `sql`.
 */
import type { ControlField } from "../../deb/control.ts";
import { parseDescription } from "../../deb/description.ts";
import { readParagraph } from "../../deb/paragraph.ts";
import { relatedNames } from "../../deb/relations.ts";
import { compareVersions } from "../../deb/version.ts";

/** One package name of a release, as the repository page lists it. */
export interface PackageListing {
  name: string;
  /** The newest version any dist of the release lists (dpkg's order), and its synopsis. */
  version: string;
  synopsis: string;
  /** The dists listing any version of it, and the architectures of those versions. */
  dists: string[];
  architectures: string[];
}

/** One member of a release under a package name: one (dist, component, version, architecture). */
export interface PackageMember {
  dist: string;
  component: string;
  version: string;
  architecture: string;
  sha256: string;
  size: number;
  /** The pool path apt downloads it from, below the repository root. */
  filename: string;
  /** The control fields as the Packages index lists them, without Filename, Size and the checksums. */
  fields: ControlField[];
}

/** The fields a Packages stanza adds to the control file: shown on their own, not as control fields. */
const INDEX_FIELDS = new Set(["filename", "size", "md5sum", "sha1", "sha256", "sha512"]);
/** Bound parameters per statement stay below the platform's 100 (DESIGN.md §7). */
const NAMES_PER_QUERY = 90;

const MEMBERS = `SELECT s.dist, s.component, m.name, m.version, m.architecture, m.sha256, m.pool_path,
    coalesce(p.size, 0) AS size,
    coalesce(m.stanza, p.stanza_head || 'Filename: ' || m.pool_path || char(10) || p.stanza_tail) AS stanza,
    p.fields AS legacy_fields
  FROM member_segments s JOIN segment_members m ON m.segment = s.segment
  LEFT JOIN packages p ON p.sha256 = m.sha256`;

type Row = Record<string, SqlStorageValue>;

export class Browse {
  readonly #sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
  }

  /**
   * Up to `limit` package names of `release` above `after`, in name order, those containing
   * `query` when it is not empty, each with its newest version; and whether more follow.
   */
  listing(
    release: string,
    filter: { query: string; after: string; limit: number },
  ): { packages: PackageListing[]; more: boolean } {
    // DISTINCT over the members' (segment, architecture) index, which holds every key column: the
    // stanzas are not read for names that are not shown.
    const names = this.#sql
      .exec(
        `SELECT DISTINCT m.name FROM member_segments s JOIN segment_members m ON m.segment = s.segment
         WHERE s.release_id = ? AND m.name > ? AND (? = '' OR instr(m.name, ?) > 0)
         ORDER BY m.name LIMIT ?`,
        release,
        filter.after,
        filter.query,
        filter.query,
        filter.limit + 1,
      )
      .toArray()
      .map((r) => String(r.name));
    const more = names.length > filter.limit;
    const shown = names.slice(0, filter.limit);
    const first = shown[0];
    const last = shown.at(-1);
    if (first === undefined || last === undefined) return { packages: [], more: false };
    const byName = new Map<string, PackageListing & { fields: ControlField[] | null }>();
    const rows = this.#sql
      .exec(
        `${MEMBERS} WHERE s.release_id = ? AND m.name >= ? AND m.name <= ? AND (? = '' OR instr(m.name, ?) > 0)`,
        release,
        first,
        last,
        filter.query,
        filter.query,
      )
      .toArray();
    for (const r of rows) {
      const name = String(r.name);
      const version = String(r.version);
      let entry = byName.get(name);
      if (entry === undefined) {
        entry = { name, version, synopsis: "", dists: [], architectures: [], fields: null };
        byName.set(name, entry);
      }
      if (!entry.dists.includes(String(r.dist))) entry.dists.push(String(r.dist));
      if (!entry.architectures.includes(String(r.architecture))) entry.architectures.push(String(r.architecture));
      if (entry.fields === null || compareVersions(version, entry.version) > 0) {
        entry.version = version;
        entry.fields = fieldsOf(r);
      }
    }
    const packages = shown.flatMap((name) => {
      const entry = byName.get(name);
      if (entry === undefined) return [];
      const { fields, ...listing } = entry;
      const description = fields?.find((f) => f.name.toLowerCase() === "description")?.value ?? "";
      return [
        {
          ...listing,
          synopsis: parseDescription(description).synopsis,
          dists: listing.dists.sort(),
          architectures: listing.architectures.sort(),
        },
      ];
    });
    return { packages, more };
  }

  /** Every member of `release` named `name`, newest version first, then by dist and architecture. */
  members(release: string, name: string): PackageMember[] {
    const rows = this.#sql.exec(`${MEMBERS} WHERE s.release_id = ? AND m.name = ?`, release, name).toArray();
    return rows
      .map((r) => ({
        dist: String(r.dist),
        component: String(r.component),
        version: String(r.version),
        architecture: String(r.architecture),
        sha256: String(r.sha256),
        size: Number(r.size),
        filename: String(r.pool_path),
        fields: fieldsOf(r).filter((f) => !INDEX_FIELDS.has(f.name.toLowerCase())),
      }))
      .sort(
        (a, b) =>
          compareVersions(b.version, a.version) ||
          a.dist.localeCompare(b.dist) ||
          a.component.localeCompare(b.component) ||
          a.architecture.localeCompare(b.architecture),
      );
  }

  /** Those of `names` that `release` lists in any dist: what a relationship field can link to. */
  present(release: string, names: readonly string[]): string[] {
    const found = new Set<string>();
    for (let i = 0; i < names.length; i += NAMES_PER_QUERY) {
      const part = names.slice(i, i + NAMES_PER_QUERY);
      const marks = part.map(() => "?").join(", ");
      for (const r of this.#sql.exec(
        `SELECT DISTINCT m.name FROM member_segments s JOIN segment_members m ON m.segment = s.segment
         WHERE s.release_id = ? AND m.name IN (${marks})`,
        release,
        ...part,
      )) {
        found.add(String(r.name));
      }
    }
    return [...found].sort();
  }

  /** The names the relationship fields of these members mention that `release` holds. */
  linkable(release: string, members: readonly PackageMember[]): string[] {
    const names = new Set<string>();
    for (const m of members) for (const n of relatedNames(m.fields)) names.add(n);
    return this.present(release, [...names]);
  }
}

/**
 * A member's control fields: from its stanza, or for a package uploaded before migration 4 (no
 * stored stanza), from the JSON pairs it kept in `fields`.
 */
function fieldsOf(r: Row): ControlField[] {
  if (typeof r.stanza === "string") return readParagraph(r.stanza);
  if (typeof r.legacy_fields === "string" && r.legacy_fields !== "") return legacyFields(r.legacy_fields);
  return [];
}

/** `[[name, value], …]`, read defensively (STYLE.md: parse what storage returns). */
function legacyFields(text: string): ControlField[] {
  const data: unknown = JSON.parse(text);
  if (!Array.isArray(data)) throw new Error("stored control fields are not an array");
  return data.map((pair: unknown) => {
    if (!Array.isArray(pair) || typeof pair[0] !== "string" || typeof pair[1] !== "string") {
      throw new Error("stored control field is not a [name, value] pair");
    }
    return { name: pair[0], value: pair[1] };
  });
}
