/**
 * The object's SQLite schema as numbered, append-only migrations (STYLE.md "Durable Objects").
 * Never edit a migration that has shipped: add a new one.
 *
 * Invariants the schema carries:
 * - at most one open and at most one active release (partial unique indexes);
 * - a release's membership is rows in key-ranged segments (migration 3), shared between releases
 *   until the open one changes them: creating a release copies segment references, never blobs;
 * - one stanza per `packages` row (a row is at most 2 MB on Cloudflare; control files are capped
 *   at 1 MiB by deb/), never a whole index, rendered at upload (every package has one since
 *   migration 10); a `segment_members` row carries its package's stanza with the member's Filename
 *   line (migration 7), rendered from the package's, never changed alone;
 * - `versions` binds (name, version, architecture) to one content unless the repository allows reuse;
 * - a package's bytes are its own blob (`pack` NULL) or a range of the pack named by `pack`;
 * - a trusted key with `revoked_at` set is never trusted again, and its row is never deleted.
 */

import type { ControlField } from "../../deb/control.ts";
import { joinStanza, renderStanzaParts } from "../../deb/packages.ts";

export interface Migration {
  id: number;
  description: string;
  /** Statements, run as one script ("" for none). */
  sql: string;
  /** A step SQL cannot express (rendering with deb/), run after `sql` in the same transaction. */
  run?: (sql: SqlStorage) => void;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    id: 1,
    description: "repository settings, packages, releases, membership, indexes, signatures, activations, keys",
    sql: `
      CREATE TABLE repository (
        singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
        id TEXT NOT NULL,
        may_reuse_versions INTEGER NOT NULL DEFAULT 0,
        retention_seconds INTEGER NOT NULL,
        base_url TEXT NOT NULL,
        origin TEXT NOT NULL,
        label TEXT NOT NULL,
        created_at INTEGER NOT NULL
      );

      CREATE TABLE packages (
        sha256 TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        version TEXT NOT NULL,
        architecture TEXT NOT NULL,
        source TEXT NOT NULL,
        fields TEXT NOT NULL,
        size INTEGER NOT NULL,
        md5 TEXT NOT NULL,
        sha1 TEXT NOT NULL,
        sha512 TEXT NOT NULL,
        uploaded_at INTEGER NOT NULL
      );

      CREATE TABLE versions (
        name TEXT NOT NULL,
        version TEXT NOT NULL,
        architecture TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        bound_at INTEGER NOT NULL,
        PRIMARY KEY (name, version, architecture)
      ) WITHOUT ROWID;

      CREATE TABLE releases (
        id TEXT PRIMARY KEY,
        seq INTEGER NOT NULL UNIQUE,
        state TEXT NOT NULL CHECK (state IN ('open', 'active', 'retired')),
        parent TEXT,
        generation INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL,
        activated_at INTEGER,
        retired_at INTEGER
      );
      CREATE UNIQUE INDEX releases_one_open ON releases (state) WHERE state = 'open';
      CREATE UNIQUE INDEX releases_one_active ON releases (state) WHERE state = 'active';

      CREATE TABLE members (
        release_id TEXT NOT NULL,
        dist TEXT NOT NULL,
        component TEXT NOT NULL,
        name TEXT NOT NULL,
        version TEXT NOT NULL,
        architecture TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        pool_path TEXT NOT NULL,
        PRIMARY KEY (release_id, dist, component, name, version, architecture)
      ) WITHOUT ROWID;
      CREATE INDEX members_pool_path ON members (pool_path);
      CREATE INDEX members_sha256 ON members (sha256);

      CREATE TABLE dists (
        release_id TEXT NOT NULL,
        dist TEXT NOT NULL,
        changed INTEGER NOT NULL DEFAULT 0,
        release_text TEXT,
        generated_generation INTEGER,
        generated_at INTEGER,
        release_sha256 TEXT,
        release_size INTEGER,
        inrelease_sha256 TEXT,
        inrelease_size INTEGER,
        release_gpg_sha256 TEXT,
        release_gpg_size INTEGER,
        signed_by TEXT,
        signed_at INTEGER,
        PRIMARY KEY (release_id, dist)
      ) WITHOUT ROWID;

      CREATE TABLE indexes (
        release_id TEXT NOT NULL,
        dist TEXT NOT NULL,
        component TEXT NOT NULL,
        architecture TEXT NOT NULL,
        dirty INTEGER NOT NULL,
        PRIMARY KEY (release_id, dist, component, architecture)
      ) WITHOUT ROWID;

      CREATE TABLE index_files (
        release_id TEXT NOT NULL,
        dist TEXT NOT NULL,
        path TEXT NOT NULL,
        component TEXT NOT NULL,
        architecture TEXT NOT NULL,
        size INTEGER NOT NULL,
        md5 TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        sha512 TEXT NOT NULL,
        generated_at INTEGER NOT NULL,
        PRIMARY KEY (release_id, dist, path)
      ) WITHOUT ROWID;
      CREATE INDEX index_files_sha256 ON index_files (sha256);
      CREATE INDEX index_files_md5 ON index_files (md5);
      CREATE INDEX index_files_sha512 ON index_files (sha512);

      CREATE TABLE activations (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        release_id TEXT NOT NULL,
        previous_id TEXT,
        requested_at INTEGER NOT NULL,
        visible_at INTEGER
      );
      CREATE INDEX activations_visible_at ON activations (visible_at);

      CREATE TABLE trusted_keys (
        fingerprint TEXT PRIMARY KEY,
        armored TEXT NOT NULL,
        user_ids TEXT NOT NULL,
        algorithm TEXT NOT NULL,
        created_at TEXT NOT NULL,
        expires_at TEXT,
        added_at INTEGER NOT NULL
      );
    `,
  },
  {
    id: 2,
    description: "index chunks: each Packages index as key-ranged runs of stanzas, each its own gzip member",
    sql: `
      -- A chunk covers the members of its index whose (name, version, architecture) is at least its
      -- start key and below the next chunk's start key; the first chunk starts at ('', '', '').
      -- Packages.gz is the chunks' gzip members concatenated in key order (RFC 1952 §2.2).
      CREATE TABLE index_chunks (
        release_id TEXT NOT NULL,
        dist TEXT NOT NULL,
        component TEXT NOT NULL,
        architecture TEXT NOT NULL,
        start_name TEXT NOT NULL,
        start_version TEXT NOT NULL,
        start_architecture TEXT NOT NULL,
        stanzas INTEGER NOT NULL,
        plain_size INTEGER NOT NULL,
        gzip_sha256 TEXT NOT NULL,
        gzip_size INTEGER NOT NULL,
        dirty INTEGER NOT NULL,
        PRIMARY KEY (release_id, dist, component, architecture, start_name, start_version, start_architecture)
      ) WITHOUT ROWID;
      CREATE INDEX index_chunks_gzip_sha256 ON index_chunks (gzip_sha256);
      -- How an index file's bytes are kept: 'blob' at its SHA-256; 'chunks', the Packages.gz of an
      -- index of several chunks, served as its chunks' members in key order; 'listed', the
      -- uncompressed Packages of such an index, which the Release lists (apt looks an index up by
      -- that name) but nothing stores or serves: only its size and SHA-256 are known.
      ALTER TABLE index_files ADD COLUMN storage TEXT NOT NULL DEFAULT 'blob'
        CHECK (storage IN ('blob', 'chunks', 'listed'));
      -- Indexes generated before chunks existed have no chunk rows: rebuild them on the next generate.
      UPDATE indexes SET dirty = 1;
    `,
  },
  {
    id: 3,
    description: "membership as key-ranged segments that releases share until they change them",
    sql: `
      -- A release's membership of a dist and component is a run of segments in key order: a segment
      -- holds the members whose (name, version, architecture) is at least its start key and below
      -- the next segment's start; the first starts at ('', '', ''). A new release copies the parent's
      -- segment references (about one per thousand members), not its rows; the open release copies
      -- a segment's rows on its first change to it ('owned' = 1 from then on). Only the open release
      -- changes, so a segment referenced by more than one release never changes.
      CREATE TABLE member_segments (
        release_id TEXT NOT NULL,
        dist TEXT NOT NULL,
        component TEXT NOT NULL,
        start_name TEXT NOT NULL,
        start_version TEXT NOT NULL,
        start_architecture TEXT NOT NULL,
        segment INTEGER NOT NULL,
        owned INTEGER NOT NULL CHECK (owned IN (0, 1)),
        PRIMARY KEY (release_id, dist, component, start_name, start_version, start_architecture)
      ) WITHOUT ROWID;
      CREATE INDEX member_segments_segment ON member_segments (segment);

      CREATE TABLE segment_members (
        segment INTEGER NOT NULL,
        name TEXT NOT NULL,
        version TEXT NOT NULL,
        architecture TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        pool_path TEXT NOT NULL,
        PRIMARY KEY (segment, name, version, architecture)
      ) WITHOUT ROWID;
      CREATE INDEX segment_members_pool_path ON segment_members (pool_path);
      CREATE INDEX segment_members_sha256 ON segment_members (sha256);

      -- Existing membership: each release's dist and component cut into segments of 1024 members.
      INSERT INTO segment_members (segment, name, version, architecture, sha256, pool_path)
        SELECT part * 1048576 + n / 1024 + 1, name, version, architecture, sha256, pool_path FROM (
          SELECT *, dense_rank() OVER (ORDER BY release_id, dist, component) AS part,
            row_number() OVER (PARTITION BY release_id, dist, component ORDER BY name, version, architecture) - 1 AS n
          FROM members);
      INSERT INTO member_segments (release_id, dist, component, start_name, start_version, start_architecture,
          segment, owned)
        SELECT release_id, dist, component, iif(n = 0, '', name), iif(n = 0, '', version), iif(n = 0, '', architecture),
          part * 1048576 + n / 1024 + 1, 1 FROM (
          SELECT *, dense_rank() OVER (ORDER BY release_id, dist, component) AS part,
            row_number() OVER (PARTITION BY release_id, dist, component ORDER BY name, version, architecture) - 1 AS n
          FROM members)
        WHERE n % 1024 = 0;
      DROP TABLE members;

      -- Every release's membership as rows, for the reads that do not care about segments.
      CREATE VIEW release_members AS
        SELECT s.release_id, s.dist, s.component, m.name, m.version, m.architecture, m.sha256, m.pool_path, m.segment
        FROM member_segments s JOIN segment_members m ON m.segment = s.segment;
    `,
  },
  {
    id: 4,
    description: "each package's stanza rendered once, at upload, around its Filename line",
    sql: `
      -- deb/packages.ts StanzaParts: generating an index joins these with the member's pool path
      -- instead of parsing and ordering the control fields again for every package. NULL for
      -- packages uploaded before this migration; their stanza is rendered from \`fields\`.
      ALTER TABLE packages ADD COLUMN stanza_head TEXT;
      ALTER TABLE packages ADD COLUMN stanza_tail TEXT;
    `,
  },
  {
    id: 5,
    description: "packages stored in packs: the new files of one batch upload back to back in one blob",
    sql: `
      -- A package a batch upload stored in a pack (worker/batch-upload.ts): \`pack\` is the pack's
      -- SHA-256 (its blob's address) and \`pack_offset\` where the package's bytes start in it. NULL:
      -- the package is its own blob, at its SHA-256. A pack is needed while any package names it.
      ALTER TABLE packages ADD COLUMN pack TEXT;
      ALTER TABLE packages ADD COLUMN pack_offset INTEGER;
      CREATE INDEX packages_pack ON packages (pack) WHERE pack IS NOT NULL;
    `,
  },
  {
    id: 6,
    description: "control fields kept once: in the stanza columns, not also as JSON",
    sql: `
      -- Since migration 4 a package's control fields are in stanza_head and stanza_tail, rendered;
      -- the JSON copy in \`fields\` was read by nothing and made every row twice as long, and a
      -- Packages index reads the row of every member. Packages from before migration 4 keep
      -- theirs, since their stanza is rendered from it.
      UPDATE packages SET fields = '' WHERE stanza_head IS NOT NULL;
    `,
  },
  {
    id: 7,
    description:
      "each member's whole stanza kept beside it, so generating an index reads one table in key order; segments indexed by architecture",
    sql: `
      -- The member's stanza as its Packages index lists it: the package's stanza_head, its Filename
      -- line (the member's pool path) and stanza_tail. Generating reads a segment's rows in key
      -- order; joining each to its package instead meant a lookup per row in the packages table,
      -- which is in upload order (about 0.9 s of a full publish of 63,000, bench/RESULTS.md). NULL
      -- for a package from before migration 4, whose stanza is rendered from its fields.
      ALTER TABLE segment_members ADD COLUMN stanza TEXT;
      UPDATE segment_members SET stanza = (
        SELECT p.stanza_head || 'Filename: ' || segment_members.pool_path || char(10) || p.stanza_tail
        FROM packages p WHERE p.sha256 = segment_members.sha256);

      -- A dist's architectures, found by seeking each segment's next one (queries.ts architectures)
      -- instead of reading every member, stanzas and all, on every generate.
      CREATE INDEX segment_members_architecture ON segment_members (segment, architecture);
    `,
  },
  {
    id: 8,
    description: "revoked keys: kept, with when the repository learned of the revocation, never trusted again",
    sql: `
      -- A key whose revocation the repository has seen signs nothing more (DESIGN.md §4b): its row
      -- stays, its armor carrying the revocation (served in the archive keyring, so apt clients
      -- learn it too), with the time the revocation arrived and its reason. NULL: trusted.
      ALTER TABLE trusted_keys ADD COLUMN revoked_at INTEGER;
      ALTER TABLE trusted_keys ADD COLUMN revocation_reason TEXT;
    `,
  },
  {
    id: 9,
    description: "the repository's creation id, naming this lifetime's blobs and guarding its D1 pointer writes",
    sql: `
      -- D1's repositories.uid for this lifetime of the repository (objects/repository/blobs.ts
      -- repositoryScope). NULL for a repository created before uids: its blobs are under its id alone.
      ALTER TABLE repository ADD COLUMN uid TEXT;
    `,
  },
  {
    id: 10,
    description:
      "the stanza of every package stored before stanzas were kept, rendered once, so generating an index never renders one",
    // Packages uploaded before migration 4 kept only their control fields, as JSON; their members
    // got no stanza from migration 7. Generating rendered both on the fly; rendered here with
    // deb/packages.ts, as an upload renders them now, they are read like every other row.
    sql: "",
    run: renderLegacyStanzas,
  },
];

/** Rows per statement when a migration rewrites rows in code: a page of stanzas in memory at a time. */
const MIGRATION_PAGE = 500;

/**
 * Migration 10: render the stanza halves of each package that has none from its JSON fields (and
 * empty the JSON, which nothing reads any more, as migration 6 did for the others), then give each
 * member without a stanza its package's, joined around its Filename line. A package whose fields
 * do not parse is left as it is, and logged: generating its index then fails, as it did before.
 */
function renderLegacyStanzas(sql: SqlStorage): void {
  for (let after = ""; ; ) {
    const page = sql
      .exec<{ sha256: string; fields: string; size: number; md5: string }>(
        `SELECT sha256, fields, size, md5 FROM packages WHERE stanza_head IS NULL AND sha256 > ?
         ORDER BY sha256 LIMIT ?`,
        after,
        MIGRATION_PAGE,
      )
      .toArray();
    for (const p of page) {
      const fields = parseFields(p.fields);
      if (fields === null) {
        console.error(`package ${p.sha256}: its stored control fields do not parse; its stanza is not rendered`);
        continue;
      }
      const parts = renderStanzaParts({ fields, size: p.size, md5: p.md5, sha256: p.sha256 });
      sql.exec(
        "UPDATE packages SET stanza_head = ?, stanza_tail = ?, fields = '' WHERE sha256 = ?",
        parts.head,
        parts.tail,
        p.sha256,
      );
    }
    const last = page.at(-1);
    if (last === undefined || page.length < MIGRATION_PAGE) break;
    after = last.sha256;
  }
  for (let after: [number, string, string, string] = [0, "", "", ""]; ; ) {
    const page = sql
      .exec<{
        segment: number;
        name: string;
        version: string;
        architecture: string;
        pool_path: string;
        head: string;
        tail: string;
      }>(
        `SELECT m.segment, m.name, m.version, m.architecture, m.pool_path, p.stanza_head AS head, p.stanza_tail AS tail
         FROM segment_members m JOIN packages p ON p.sha256 = m.sha256
         WHERE m.stanza IS NULL AND p.stanza_head IS NOT NULL AND (m.segment, m.name, m.version, m.architecture) > (?, ?, ?, ?)
         ORDER BY m.segment, m.name, m.version, m.architecture LIMIT ?`,
        ...after,
        MIGRATION_PAGE,
      )
      .toArray();
    for (const m of page) {
      sql.exec(
        "UPDATE segment_members SET stanza = ? WHERE segment = ? AND name = ? AND version = ? AND architecture = ?",
        joinStanza({ head: m.head, tail: m.tail }, m.pool_path),
        m.segment,
        m.name,
        m.version,
        m.architecture,
      );
    }
    const last = page.at(-1);
    if (last === undefined || page.length < MIGRATION_PAGE) break;
    after = [last.segment, last.name, last.version, last.architecture];
  }
}

/** Control fields as migration 1 stored them, JSON `[name, value]` pairs; null when they are not. */
function parseFields(text: string): ControlField[] | null {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return null;
  }
  if (!Array.isArray(data)) return null;
  const fields: ControlField[] = [];
  for (const pair of data as unknown[]) {
    if (!Array.isArray(pair) || typeof pair[0] !== "string" || typeof pair[1] !== "string") return null;
    fields.push({ name: pair[0], value: pair[1] });
  }
  return fields;
}

/**
 * Apply every migration not yet recorded, in order, each in its own transaction. Runs in the
 * constructor inside `blockConcurrencyWhile`, so no request sees a half-migrated schema. Applied in
 * order, the recorded ones are always a prefix of the list; going by the record rather than the
 * highest id also lets a test rewind one migration without re-running every later one.
 */
export function migrate(storage: DurableObjectStorage): void {
  const sql = storage.sql;
  sql.exec(
    "CREATE TABLE IF NOT EXISTS _migrations (id INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at INTEGER NOT NULL)",
  );
  const applied = new Set(
    sql
      .exec<{ id: number }>("SELECT id FROM _migrations")
      .toArray()
      .map((r) => r.id),
  );
  for (const m of MIGRATIONS) {
    if (applied.has(m.id)) continue;
    storage.transactionSync(() => {
      if (m.sql !== "") sql.exec(m.sql);
      m.run?.(sql);
      sql.exec(
        "INSERT INTO _migrations (id, description, applied_at) VALUES (?, ?, ?)",
        m.id,
        m.description,
        Date.now(),
      );
    });
  }
}
