/**
 * Every D1 statement on the webhook tables (schema/d1/0003_webhooks.sql), in one module. A
 * repository's webhooks are named by its id and creation id together, so a deleted repository's
 * webhooks can never be found for a successor under the same id (DESIGN.md §4b). The secret is
 * written by `insertWebhook` and read only by `deliveryToSend`; no other statement selects it.
 */
import {
  type Delivery,
  type DeliveryAttempt,
  DeliveryEventSchema,
  type Webhook,
  type WebhookEvent,
  WebhookEventSchema,
} from "../schema/webhooks.ts";

/** Deliveries (with their attempts) and events older than this are pruned when a repository records a new event. */
export const DELIVERY_RETENTION_MS = 30 * 86_400_000;
/** `GET …/deliveries` lists at most this many, the newest first. */
export const DELIVERY_LIST_LIMIT = 100;

/** A repository's lifetime: its id and creation id (RepositoryRow.scope is built from both). */
export interface RepositoryKey {
  id: string;
  uid: string | null;
}

interface WebhookRow {
  id: string;
  repository_id: string;
  url: string;
  events: string;
  created_at: string;
}

function toWebhook(r: WebhookRow): Webhook {
  return {
    id: r.id,
    repository: r.repository_id,
    url: r.url,
    events: WebhookEventSchema.array().parse(JSON.parse(r.events)),
    created_at: r.created_at,
  };
}

const PUBLIC_COLUMNS = "id, repository_id, url, events, created_at";

export async function insertWebhook(
  db: D1Database,
  repo: RepositoryKey,
  hook: { id: string; url: string; secret: string; events: WebhookEvent[]; createdAt: string },
): Promise<Webhook> {
  await db
    .prepare(
      `INSERT INTO webhooks (id, repository_id, repository_uid, url, secret, events, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    )
    .bind(hook.id, repo.id, repo.uid, hook.url, hook.secret, JSON.stringify(hook.events), hook.createdAt)
    .run();
  return { id: hook.id, repository: repo.id, url: hook.url, events: hook.events, created_at: hook.createdAt };
}

export async function countWebhooks(db: D1Database, repo: RepositoryKey): Promise<number> {
  const r = await db
    .prepare("SELECT count(*) AS n FROM webhooks WHERE repository_id = ? AND repository_uid IS ?")
    .bind(repo.id, repo.uid)
    .first<{ n: number }>();
  return r?.n ?? 0;
}

export async function listWebhooks(db: D1Database, repo: RepositoryKey): Promise<Webhook[]> {
  const rows = await db
    .prepare(
      `SELECT ${PUBLIC_COLUMNS} FROM webhooks WHERE repository_id = ? AND repository_uid IS ? ORDER BY created_at, id`,
    )
    .bind(repo.id, repo.uid)
    .all<WebhookRow>();
  return rows.results.map(toWebhook);
}

export async function findWebhook(db: D1Database, repo: RepositoryKey, id: string): Promise<Webhook | null> {
  const r = await db
    .prepare(`SELECT ${PUBLIC_COLUMNS} FROM webhooks WHERE id = ? AND repository_id = ? AND repository_uid IS ?`)
    .bind(id, repo.id, repo.uid)
    .first<WebhookRow>();
  return r === null ? null : toWebhook(r);
}

/** Delete a webhook and its delivery history; false when the repository has no such webhook. */
export async function deleteWebhook(db: D1Database, repo: RepositoryKey, id: string): Promise<boolean> {
  const [, , removed] = await db.batch([
    db
      .prepare(
        `DELETE FROM webhook_attempts WHERE delivery_id IN (SELECT d.id FROM webhook_deliveries d
           JOIN webhooks w ON w.id = d.webhook_id WHERE w.id = ? AND w.repository_id = ? AND w.repository_uid IS ?)`,
      )
      .bind(id, repo.id, repo.uid),
    db
      .prepare(
        `DELETE FROM webhook_deliveries WHERE webhook_id IN
           (SELECT id FROM webhooks WHERE id = ? AND repository_id = ? AND repository_uid IS ?)`,
      )
      .bind(id, repo.id, repo.uid),
    db
      .prepare("DELETE FROM webhooks WHERE id = ? AND repository_id = ? AND repository_uid IS ?")
      .bind(id, repo.id, repo.uid),
  ]);
  return (removed?.meta.changes ?? 0) > 0;
}

/**
 * The statements that delete everything webhook-related of a repository id, every lifetime of it:
 * run in the same batch as the deletion of its D1 row (worker/routes/admin.ts).
 */
export function deleteRepositoryWebhooks(db: D1Database, repositoryId: string): D1PreparedStatement[] {
  return [
    db
      .prepare(
        `DELETE FROM webhook_attempts WHERE delivery_id IN
           (SELECT d.id FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id WHERE e.repository_id = ?)`,
      )
      .bind(repositoryId),
    db
      .prepare(
        "DELETE FROM webhook_deliveries WHERE event_id IN (SELECT id FROM webhook_events WHERE repository_id = ?)",
      )
      .bind(repositoryId),
    db.prepare("DELETE FROM webhook_events WHERE repository_id = ?").bind(repositoryId),
    db.prepare("DELETE FROM webhooks WHERE repository_id = ?").bind(repositoryId),
  ];
}

/**
 * The webhooks of a repository that want `event` (every webhook gets `ping`, but only the one
 * tested is asked for it). Events are a JSON array of names; the quoted name cannot match a prefix
 * of another.
 */
export async function subscribers(db: D1Database, repo: RepositoryKey, event: WebhookEvent): Promise<string[]> {
  const rows = await db
    .prepare(
      "SELECT id FROM webhooks WHERE repository_id = ? AND repository_uid IS ? AND instr(events, ?) > 0 ORDER BY id",
    )
    .bind(repo.id, repo.uid, JSON.stringify(event))
    .all<{ id: string }>();
  return rows.results.map((r) => r.id);
}

export interface EventRecord {
  id: string;
  repository: RepositoryKey;
  event: string;
  dedupe: string;
  payload: string;
  createdAt: string;
}

/**
 * Record an event and one pending delivery of it per webhook, in one batch; returns the deliveries
 * still pending, or null when another event already reported this change (same dedupe key). Run
 * again for the same event (a retried queue message), it adds nothing and returns what is pending.
 * Old events of the repository, their deliveries and attempts, are pruned in the same batch.
 */
export async function recordEvent(
  db: D1Database,
  e: EventRecord,
  webhookIds: string[],
): Promise<{ id: string; webhookId: string }[] | null> {
  const before = new Date(Date.parse(e.createdAt) - DELIVERY_RETENTION_MS).toISOString();
  const { id: repositoryId, uid } = e.repository;
  const results = await db.batch<{ id: string; webhook_id: string; state: string; dedupe_owner: string | null }>([
    db
      .prepare(
        `DELETE FROM webhook_attempts WHERE delivery_id IN (SELECT d.id FROM webhook_deliveries d
           JOIN webhook_events ev ON ev.id = d.event_id WHERE ev.repository_id = ? AND ev.created_at < ?)`,
      )
      .bind(repositoryId, before),
    db
      .prepare(
        `DELETE FROM webhook_deliveries WHERE event_id IN
           (SELECT id FROM webhook_events WHERE repository_id = ? AND created_at < ?)`,
      )
      .bind(repositoryId, before),
    db.prepare("DELETE FROM webhook_events WHERE repository_id = ? AND created_at < ?").bind(repositoryId, before),
    db
      .prepare(
        `INSERT INTO webhook_events (id, repository_id, repository_uid, event, dedupe_key, payload, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
      )
      .bind(e.id, repositoryId, uid, e.event, e.dedupe, e.payload, e.createdAt),
    // Only for this event's own row: nothing when the dedupe key belongs to another event.
    ...webhookIds.map((webhookId) =>
      db
        .prepare(
          `INSERT INTO webhook_deliveries (id, webhook_id, event_id, event, state, created_at)
           SELECT ?, ?, id, event, 'pending', ? FROM webhook_events WHERE id = ?
           ON CONFLICT (event_id, webhook_id) DO NOTHING`,
        )
        .bind(crypto.randomUUID(), webhookId, e.createdAt, e.id),
    ),
    db
      .prepare(
        `SELECT d.id, d.webhook_id, d.state, (SELECT id FROM webhook_events WHERE dedupe_key = ?) AS dedupe_owner
         FROM (SELECT 1) LEFT JOIN webhook_deliveries d ON d.event_id = ? ORDER BY d.webhook_id`,
      )
      .bind(e.dedupe, e.id),
  ]);
  const rows = results.at(-1)?.results ?? [];
  if (rows[0]?.dedupe_owner !== e.id) return null;
  return rows.filter((r) => r.id !== null && r.state === "pending").map((r) => ({ id: r.id, webhookId: r.webhook_id }));
}

/** Record a `ping` for one webhook, with its delivery, in one batch (POST …/webhooks/{id}/test). */
export async function recordPing(db: D1Database, e: EventRecord, webhookId: string): Promise<Delivery> {
  const deliveryId = crypto.randomUUID();
  await db.batch([
    db
      .prepare(
        `INSERT INTO webhook_events (id, repository_id, repository_uid, event, dedupe_key, payload, created_at)
         VALUES (?, ?, ?, 'ping', ?, ?, ?)`,
      )
      .bind(e.id, e.repository.id, e.repository.uid, e.dedupe, e.payload, e.createdAt),
    db
      .prepare(
        `INSERT INTO webhook_deliveries (id, webhook_id, event_id, event, state, created_at)
         VALUES (?, ?, ?, 'ping', 'pending', ?)`,
      )
      .bind(deliveryId, webhookId, e.id, e.createdAt),
  ]);
  return { id: deliveryId, event_id: e.id, event: "ping", created_at: e.createdAt, state: "pending", attempts: [] };
}

export interface DeliveryToSend {
  id: string;
  state: "pending" | "delivered" | "failed";
  event: string;
  webhookId: string;
  url: string;
  secret: string;
  payload: string;
  /** Attempts recorded so far. */
  attempts: number;
}

/** What sending a delivery needs, the webhook's secret included; null when the delivery or its webhook is gone. */
export async function deliveryToSend(db: D1Database, id: string): Promise<DeliveryToSend | null> {
  const r = await db
    .prepare(
      `SELECT d.id, d.state, d.event, d.webhook_id, w.url, w.secret, e.payload,
              (SELECT count(*) FROM webhook_attempts a WHERE a.delivery_id = d.id) AS attempts
       FROM webhook_deliveries d
       JOIN webhooks w ON w.id = d.webhook_id
       JOIN webhook_events e ON e.id = d.event_id
       WHERE d.id = ?`,
    )
    .bind(id)
    .first<{
      id: string;
      state: DeliveryToSend["state"];
      event: string;
      webhook_id: string;
      url: string;
      secret: string;
      payload: string;
      attempts: number;
    }>();
  if (r === null) return null;
  return {
    id: r.id,
    state: r.state,
    event: r.event,
    webhookId: r.webhook_id,
    url: r.url,
    secret: r.secret,
    payload: r.payload,
    attempts: r.attempts,
  };
}

/** Record one attempt and the delivery's state after it. */
export async function recordAttempt(
  db: D1Database,
  deliveryId: string,
  attempt: DeliveryAttempt,
  state: DeliveryToSend["state"],
): Promise<void> {
  await db.batch([
    db
      .prepare(
        `INSERT INTO webhook_attempts (delivery_id, attempt, at, status, duration_ms, error)
         VALUES (?1, (SELECT count(*) + 1 FROM webhook_attempts WHERE delivery_id = ?1), ?2, ?3, ?4, ?5)`,
      )
      .bind(deliveryId, attempt.at, attempt.status, attempt.duration_ms, attempt.error),
    db.prepare("UPDATE webhook_deliveries SET state = ? WHERE id = ?").bind(state, deliveryId),
  ]);
}

/** A webhook's deliveries, newest first, each with every attempt in order. */
export async function listDeliveries(db: D1Database, webhookId: string): Promise<Delivery[]> {
  const [deliveries, attempts] = await db.batch([
    db
      .prepare(
        `SELECT id, event_id, event, created_at, state FROM webhook_deliveries WHERE webhook_id = ?
         ORDER BY created_at DESC, rowid DESC LIMIT ?`,
      )
      .bind(webhookId, DELIVERY_LIST_LIMIT),
    db
      .prepare(
        `SELECT delivery_id, at, status, duration_ms, error FROM webhook_attempts WHERE delivery_id IN
           (SELECT id FROM webhook_deliveries WHERE webhook_id = ? ORDER BY created_at DESC, rowid DESC LIMIT ?)
         ORDER BY delivery_id, attempt`,
      )
      .bind(webhookId, DELIVERY_LIST_LIMIT),
  ]);
  const byDelivery = new Map<string, DeliveryAttempt[]>();
  for (const a of (attempts?.results ?? []) as Record<string, unknown>[]) {
    const list = byDelivery.get(String(a.delivery_id)) ?? [];
    list.push({
      at: String(a.at),
      status: typeof a.status === "number" ? a.status : null,
      duration_ms: Number(a.duration_ms),
      error: typeof a.error === "string" ? a.error : null,
    });
    byDelivery.set(String(a.delivery_id), list);
  }
  return ((deliveries?.results ?? []) as Record<string, unknown>[]).map((d) => ({
    id: String(d.id),
    event_id: String(d.event_id),
    event: DeliveryEventSchema.parse(d.event),
    created_at: String(d.created_at),
    state: d.state === "delivered" ? "delivered" : d.state === "failed" ? "failed" : "pending",
    attempts: byDelivery.get(String(d.id)) ?? [],
  }));
}

/** Hostnames repositories are served at: a webhook must not point back at Armor. */
export async function isRepositoryHostname(db: D1Database, hostname: string): Promise<boolean> {
  const r = await db.prepare("SELECT 1 AS x FROM hostnames WHERE hostname = ?").bind(hostname).first();
  return r !== null;
}
