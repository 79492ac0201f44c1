-- Webhooks (issue 20). Keyed by the repository's id and its creation id (`uid`, 0002): the webhooks
-- of a deleted repository never fire for a successor created under the same id (DESIGN.md §4b).
-- A repository's rows are deleted with it (worker/routes/admin.ts). Only the delivery path reads
-- `secret`; no API read selects it. All SQL on these tables is in worker/webhooks/store.ts.
CREATE TABLE webhooks (
  id TEXT PRIMARY KEY,                     -- wh_{16 hex}
  repository_id TEXT NOT NULL,             -- "{owner}/{name}"
  repository_uid TEXT,                     -- repositories.uid (NULL only for a repository from before 0002)
  url TEXT NOT NULL,                       -- http(s); never one of Armor's own hosts (checked when added and before each send)
  secret TEXT NOT NULL,                    -- HMAC-SHA256 key of X-Armor-Signature
  events TEXT NOT NULL,                    -- JSON array of event names
  created_at TEXT NOT NULL
);
CREATE INDEX webhooks_by_repository ON webhooks(repository_id, repository_uid);

-- One row per event that had at least one webhook to go to: the exact body every delivery of it
-- sends, so a retry sends the same bytes (and the same signature).
CREATE TABLE webhook_events (
  id TEXT PRIMARY KEY,                     -- UUID; the payload's "id"
  repository_id TEXT NOT NULL,
  repository_uid TEXT,
  event TEXT NOT NULL,
  -- Two reports of one change (a key revoked twice, an activation reported by its retry) share
  -- this: the second is not sent.
  dedupe_key TEXT NOT NULL UNIQUE,
  payload TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX webhook_events_by_repository ON webhook_events(repository_id, created_at);

-- One event sent to one webhook; its id is X-Armor-Delivery, the same on every attempt.
CREATE TABLE webhook_deliveries (
  id TEXT PRIMARY KEY,                     -- UUID
  webhook_id TEXT NOT NULL,
  event_id TEXT NOT NULL,
  event TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
  created_at TEXT NOT NULL,
  UNIQUE (event_id, webhook_id)
);
CREATE INDEX webhook_deliveries_by_webhook ON webhook_deliveries(webhook_id, created_at);

-- Every attempt at a delivery, as `armor webhook deliveries` lists them.
CREATE TABLE webhook_attempts (
  delivery_id TEXT NOT NULL,
  attempt INTEGER NOT NULL,                -- 1, 2, …
  at TEXT NOT NULL,
  status INTEGER,                          -- the receiver's HTTP status; NULL when it did not answer
  duration_ms INTEGER NOT NULL,
  error TEXT,                              -- NULL for a 2xx answer
  PRIMARY KEY (delivery_id, attempt)
);
