/**
 * Webhooks (issue 20): the management API below `/api/v1/repositories/{repo}/webhooks`, the JSON
 * body every delivery carries, and the messages the Worker puts on its queue (producer: the routes;
 * consumer: worker/webhooks/consumer.ts). Requests, answers and payloads are all here, so the CLI
 * parses answers with them and the OpenAPI document can be generated from them.
 */
import { z } from "zod";
import { FingerprintSchema, ReleaseIdSchema, RepositoryIdSchema } from "./index-document.ts";

/** What a webhook can subscribe to. */
export const WEBHOOK_EVENTS = [
  "package.added",
  "package.removed",
  "release.activated",
  "key.added",
  "key.removed",
] as const;
export const WebhookEventSchema = z.enum(WEBHOOK_EVENTS, {
  message: `must be one of ${WEBHOOK_EVENTS.join(", ")}`,
});
export type WebhookEvent = z.infer<typeof WebhookEventSchema>;

/** What a delivery can carry: a subscribed event, or `ping` (POST …/webhooks/{id}/test), which every webhook gets. */
export const DeliveryEventSchema = z.enum([...WEBHOOK_EVENTS, "ping"]);
export type DeliveryEvent = z.infer<typeof DeliveryEventSchema>;

/** `wh_` and 16 hex digits, as the server makes them. */
export const WebhookIdSchema = z.string().regex(/^wh_[0-9a-f]{16}$/, {
  message: "must be a webhook id as armor webhook list shows it (wh_ and 16 hex digits)",
});

/** A delivery's id, `X-Armor-Delivery`: a UUID, the same on every retry of the delivery. */
export const DeliveryIdSchema = z.uuid();

export const WEBHOOK_SECRET_MIN = 16;

// ---- the management API ----

/** `POST …/webhooks`. The secret keys the HMAC of every delivery; it is never shown again. */
export const CreateWebhookSchema = z.object({
  /** An http(s) URL the Worker can reach; not one of Armor's own hosts (worker/webhooks/urls.ts). */
  url: z.string().min(1).max(2048),
  secret: z
    .string()
    .min(WEBHOOK_SECRET_MIN, {
      message: `must be at least ${WEBHOOK_SECRET_MIN} characters (e.g. openssl rand -hex 32)`,
    })
    .max(256),
  /** Default: every event. */
  events: z
    .array(WebhookEventSchema)
    .min(1)
    .max(WEBHOOK_EVENTS.length * 2)
    .default([...WEBHOOK_EVENTS])
    .transform((events) => WEBHOOK_EVENTS.filter((e) => events.includes(e))),
});
export type CreateWebhook = z.infer<typeof CreateWebhookSchema>;

/** A webhook as every read shows it: never its secret. */
export const WebhookSchema = z.object({
  id: WebhookIdSchema,
  repository: RepositoryIdSchema,
  url: z.string(),
  events: z.array(WebhookEventSchema),
  created_at: z.iso.datetime(),
});
export type Webhook = z.infer<typeof WebhookSchema>;

export const WebhookListSchema = z.object({ webhooks: z.array(WebhookSchema) });

export const RemovedWebhookSchema = z.object({ removed: WebhookIdSchema });

/** One try at delivering: what the receiver answered (`status`, null when it did not), how long it took, and why it failed. */
export const DeliveryAttemptSchema = z.object({
  at: z.iso.datetime(),
  status: z.number().int().nullable(),
  duration_ms: z.number().int().min(0),
  error: z.string().nullable(),
});
export type DeliveryAttempt = z.infer<typeof DeliveryAttemptSchema>;

/**
 * One event sent to one webhook. `pending`: not delivered yet (queued, or waiting to be tried
 * again); `delivered`: a 2xx answer; `failed`: every attempt failed, or the receiver can no longer
 * be sent to (its URL became one of Armor's own hosts).
 */
export const DeliverySchema = z.object({
  id: DeliveryIdSchema,
  /** The payload's `id`: the same for every webhook the event went to. */
  event_id: z.uuid(),
  event: DeliveryEventSchema,
  created_at: z.iso.datetime(),
  state: z.enum(["pending", "delivered", "failed"]),
  attempts: z.array(DeliveryAttemptSchema),
});
export type Delivery = z.infer<typeof DeliverySchema>;

/** `GET …/webhooks/{id}/deliveries`: the newest first. */
export const DeliveryListSchema = z.object({ deliveries: z.array(DeliverySchema) });

// ---- what a delivery's body says ----

/** A package as an event names it (the object's member summary). */
export const WebhookPackageSchema = z.object({
  name: z.string(),
  version: z.string(),
  architecture: z.string(),
  sha256: z.string(),
  size: z.number().int(),
  dist: z.string(),
  component: z.string(),
  /** Its pool path below the repository root. */
  filename: z.string(),
});
export type WebhookPackage = z.infer<typeof WebhookPackageSchema>;

/** At most this many packages are listed in one payload; `count` is always the whole number. */
export const PAYLOAD_PACKAGES_LIMIT = 200;

const PackageListFields = {
  packages: z.array(WebhookPackageSchema),
  /** How many packages changed; more than `packages.length` when the list is `truncated`. */
  count: z.number().int(),
  truncated: z.boolean(),
};

export const PackageAddedDataSchema = z.object({
  /** The open release they were added to (published by a later release.activated). */
  release: ReleaseIdSchema,
  generation: z.number().int(),
  dist: z.string(),
  component: z.string(),
  ...PackageListFields,
});

export const PackageRemovedDataSchema = z.object({
  release: ReleaseIdSchema,
  generation: z.number().int(),
  dist: z.string(),
  ...PackageListFields,
});

export const ReleaseActivatedDataSchema = z.object({
  release: ReleaseIdSchema,
  /** The release served before; null for the first activation. */
  previous: ReleaseIdSchema.nullable(),
  /**
   * An older release brought back: one activated again (`armor release activate r2`), or a release
   * made from an older one than `previous` to be signed anew (`armor release rollback r2`).
   */
  rollback: z.boolean(),
  activated_at: z.iso.datetime(),
  /** When the edge started serving it. */
  visible_at: z.iso.datetime(),
  /** The dists whose packages changed from `previous` (every dist of the release for a first activation). */
  dists: z.array(z.string()),
  packages: z.object({
    added: z.array(WebhookPackageSchema),
    removed: z.array(WebhookPackageSchema),
    added_count: z.number().int(),
    removed_count: z.number().int(),
    truncated: z.boolean(),
  }),
});
export type ReleaseActivatedData = z.infer<typeof ReleaseActivatedDataSchema>;

export const WebhookKeySchema = z.object({
  fingerprint: FingerprintSchema,
  status: z.enum(["trusted", "revoked"]),
  user_ids: z.array(z.string()),
  algorithm: z.string(),
  revoked_at: z.string().nullable(),
  revocation_reason: z.string().nullable(),
});

export const KeyAddedDataSchema = z.object({ key: WebhookKeySchema });

export const KeyRemovedDataSchema = z.object({
  fingerprint: FingerprintSchema,
  /** `removed`: no longer trusted (DELETE …/keys/{fp}); `revoked`: its revocation was seen (it stays listed, revoked). */
  reason: z.enum(["removed", "revoked"]),
  /** The key as it is now held; null once removed. */
  key: WebhookKeySchema.nullable(),
});

export const PingDataSchema = z.object({
  webhook: WebhookIdSchema,
  url: z.string(),
  events: z.array(WebhookEventSchema),
});

const payload = <E extends DeliveryEvent, D extends z.ZodType>(event: E, data: D) =>
  z.object({
    /** The event's id: the same in every webhook's copy of it, and on every retry. */
    id: z.uuid(),
    event: z.literal(event),
    repository: RepositoryIdSchema,
    /** When it happened (ISO 8601, UTC). */
    time: z.iso.datetime(),
    data,
  });

/**
 * The body of every delivery, `Content-Type: application/json`, sent with `X-Armor-Event`,
 * `X-Armor-Delivery` and `X-Armor-Signature: sha256=<hex HMAC-SHA256 of these bytes, keyed by the
 * webhook's secret>`.
 */
export const WebhookPayloadSchema = z.discriminatedUnion("event", [
  payload("package.added", PackageAddedDataSchema),
  payload("package.removed", PackageRemovedDataSchema),
  payload("release.activated", ReleaseActivatedDataSchema),
  payload("key.added", KeyAddedDataSchema),
  payload("key.removed", KeyRemovedDataSchema),
  payload("ping", PingDataSchema),
]);
export type WebhookPayload = z.infer<typeof WebhookPayloadSchema>;

// ---- the queue (internal: producer and consumer are this Worker, possibly two versions of it) ----

const RepositoryRefFields = {
  repository: RepositoryIdSchema,
  /** The repository's creation id: a message for a deleted repository never reaches its successor. */
  uid: z.string().nullable(),
  /** When it happened; the payload's `time`. */
  time: z.iso.datetime(),
};

/**
 * `event`: something happened whose payload is complete; fan it out. `activation`: a release was
 * activated; the consumer completes the payload (previous, dists, the diff) from the object, so
 * the request that published never waits for a diff. `delivery`: send one delivery (and retry it).
 */
export const WebhookMessageSchema = z.discriminatedUnion("kind", [
  z.object({
    kind: z.literal("event"),
    /** Becomes the payload's id. */
    id: z.uuid(),
    ...RepositoryRefFields,
    event: WebhookEventSchema,
    /** Equal for two messages that report the same change (a revocation given twice): only the first is sent. */
    dedupe: z.string().max(300),
    data: z.record(z.string(), z.unknown()),
  }),
  z.object({
    kind: z.literal("activation"),
    id: z.uuid(),
    ...RepositoryRefFields,
    release: ReleaseIdSchema,
    /**
     * Which activation of the release: the one at this time (POST …/activate said when), its
     * `first` (a submit activates an open release, never active before), or its `latest` (an
     * activation whose answer was activation_pending, which says no time).
     */
    activation: z.union([z.literal("first"), z.literal("latest"), z.iso.datetime()]),
  }),
  z.object({ kind: z.literal("delivery"), delivery: DeliveryIdSchema }),
]);
export type WebhookMessage = z.infer<typeof WebhookMessageSchema>;
