-- D1 is read at the edge on every request: only what routing and serving need (DESIGN.md §4).
CREATE TABLE repositories (
  id TEXT PRIMARY KEY,                       -- "{owner}/{name}"
  visibility TEXT NOT NULL CHECK (visibility IN ('public', 'private')),
  active_release TEXT,                       -- release id served now; NULL before the first activation
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);

CREATE TABLE hostnames (
  hostname TEXT PRIMARY KEY COLLATE NOCASE,  -- e.g. apt.releases.example.com
  repository_id TEXT NOT NULL REFERENCES repositories(id) ON DELETE CASCADE
);
CREATE INDEX hostnames_by_repository ON hostnames(repository_id);
