-- A repository's creation id (DESIGN.md §4b): random, set once when the repository is created and
-- never reused. Its object, its R2 keys and every edge cache entry are named by (id, uid), so a
-- repository deleted and created again under the same id shares nothing with its predecessor.
-- Rows from before this migration keep NULL: their object and blobs are named by the id alone.
ALTER TABLE repositories ADD COLUMN uid TEXT;
CREATE UNIQUE INDEX repositories_by_uid ON repositories(uid) WHERE uid IS NOT NULL;
