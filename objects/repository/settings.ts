/**
 * The repository's settings (the `repository` table, one row): its id and lifetime, version
 * reuse, retention and the root URL the Release's `Snapshots:` field names. A repository exists
 * from `configure` until `destroy` begins (`live`).
 */
import { repositoryScope } from "../../r2/blobs.ts";
import type { RepositorySettings } from "../../schema/responses.ts";
import { num, Sql, str } from "./sql.ts";

export interface Settings {
  id: string;
  /** The repository's creation id (D1 repositories.uid); null for one created before uids. */
  uid: string | null;
  /** What this lifetime's blobs are named by: `repositoryScope(id, uid)`. */
  scope: string;
  mayReuseVersions: boolean;
  retentionSeconds: number;
  baseUrl: string;
  origin: string;
  label: string;
  createdAt: number;
}

/** What the admin API configures a repository with when it creates it. */
export interface RepositoryConfig {
  id: string;
  /** The creation id D1 holds for this lifetime of the repository (r2/blobs.ts). */
  uid: string | null;
  mayReuseVersions: boolean;
  retentionSeconds: number;
  /** Absolute URL of the repository root, for the Release `Snapshots:` field. */
  baseUrl: string;
}

/** Set (to the repository's scope) while the object deletes itself: the alarm finishes it (maintenance.ts). */
export const DESTROYING = "destroying";

export class SettingsStore {
  readonly #storage: DurableObjectStorage;
  readonly #sql: Sql;

  constructor(storage: DurableObjectStorage) {
    this.#storage = storage;
    this.#sql = new Sql(storage.sql);
  }

  /** The settings row, whether or not a deletion has begun; null before `configure`. */
  read(): Settings | null {
    const r = this.#sql.first("SELECT * FROM repository WHERE singleton = 1");
    if (r === null) return null;
    const uid = typeof r.uid === "string" ? r.uid : null;
    return {
      id: str(r.id),
      uid,
      scope: repositoryScope(str(r.id), uid),
      mayReuseVersions: num(r.may_reuse_versions) === 1,
      retentionSeconds: num(r.retention_seconds),
      baseUrl: str(r.base_url),
      origin: str(r.origin),
      label: str(r.label),
      createdAt: num(r.created_at),
    };
  }

  /** The settings of a repository that exists: none before `configure`, nor once `destroy` began. */
  live(): Settings | null {
    return this.#storage.kv.get(DESTROYING) === undefined ? this.read() : null;
  }

  /** Create or update the settings; Origin, Label and the creation time are kept from the first. */
  configure(config: RepositoryConfig): void {
    const current = this.read();
    // The object is named by (id, uid): another repository, or another lifetime of this one, here is a bug.
    if (current !== null && (current.id !== config.id || current.uid !== config.uid)) {
      throw new Error(`object for ${current.scope} asked to configure ${repositoryScope(config.id, config.uid)}`);
    }
    const [owner = config.id, name = config.id] = config.id.split("/");
    this.#save({
      id: config.id,
      uid: config.uid,
      mayReuseVersions: config.mayReuseVersions,
      retentionSeconds: config.retentionSeconds,
      baseUrl: config.baseUrl.replace(/\/+$/, ""),
      origin: current?.origin ?? owner,
      label: current?.label ?? name,
      createdAt: current?.createdAt ?? Date.now(),
    });
  }

  #save(s: Omit<Settings, "scope">): void {
    this.#sql.run(
      `INSERT INTO repository (singleton, id, uid, may_reuse_versions, retention_seconds, base_url, origin, label, created_at)
       VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (singleton) DO UPDATE SET may_reuse_versions = excluded.may_reuse_versions,
         retention_seconds = excluded.retention_seconds, base_url = excluded.base_url,
         origin = excluded.origin, label = excluded.label`,
      s.id,
      s.uid,
      s.mayReuseVersions ? 1 : 0,
      s.retentionSeconds,
      s.baseUrl,
      s.origin,
      s.label,
      s.createdAt,
    );
  }
}

/** The settings as clients need them (`armor repo setup`). */
export function describeSettings(s: Settings): RepositorySettings {
  return {
    id: s.id,
    base_url: s.baseUrl,
    may_reuse_versions: s.mayReuseVersions,
    retention_days: s.retentionSeconds / 86_400,
  };
}
