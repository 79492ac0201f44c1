/**
 * The queue consumer (the Worker's `queue` handler). Two stages on one queue:
 *
 * 1. An event message (`event`, or `activation`, whose payload is completed here from the
 *    object's activation log and diff, so publishing never waits for a diff) is fanned out: the
 *    payload is fixed once, recorded with one pending delivery per subscribed webhook, and one
 *    `delivery` message per delivery is enqueued.
 * 2. A `delivery` message is one POST to one receiver. A failure (non-2xx, no answer within
 *    10 s, no connection) is recorded and retried by `message.retry({ delaySeconds })` after
 *    RETRY_DELAYS_SECONDS, at most MAX_ATTEMPTS attempts in all.
 *
 * One message per delivery rather than per event: each receiver gets its own backoff, a slow or
 * failing receiver never delays or re-sends to the others, and the retry of a delivery sends the
 * same recorded bytes under the same `X-Armor-Delivery`. Queues deliver at least once, and so do
 * webhooks: a receiver deduplicates by `X-Armor-Delivery` (or the payload's `id`).
 */

import { deliveryToSend, type RepositoryKey, recordAttempt, recordEvent, subscribers } from "../../d1/webhooks.ts";
import { repositoryScope } from "../../r2/blobs.ts";
import type { ApiError } from "../../schema/errors.ts";
import type { Result } from "../../schema/result.ts";
import {
  type ReleaseActivatedData,
  type WebhookEvent,
  type WebhookMessage,
  WebhookMessageSchema,
  type WebhookPackage,
} from "../../schema/webhooks.ts";
import { repositoryById } from "../repositories.ts";
import { repositoryStub } from "../stub.ts";
import { send } from "./deliver.ts";
import { packageList } from "./events.ts";
import { bareHost, ownHostRefusal } from "./urls.ts";

/** Attempts at one delivery, the first included. */
export const MAX_ATTEMPTS = 6;
/** The wait before attempt n + 1 after attempt n failed: the first retry within 10 s, then growing (about 43 min in all). */
export const RETRY_DELAYS_SECONDS = [5, 30, 120, 600, 1800] as const;
/** An event stage that cannot finish (D1 or the object failing, an activation the edge does not serve yet) is tried this often. */
const EVENT_STAGE_ATTEMPTS = 10;

type Message = { body: unknown; attempts: number; ack(): void; retry(options?: { delaySeconds?: number }): void };

/** The Worker's `queue` handler: every message of the batch handled at once, each acknowledged or retried on its own. */
export async function consumeWebhooks(batch: { messages: readonly Message[] }, env: Env): Promise<void> {
  await Promise.all(batch.messages.map((m) => handle(m, env)));
}

async function handle(message: Message, env: Env): Promise<void> {
  const parsed = WebhookMessageSchema.safeParse(message.body);
  if (!parsed.success) {
    console.error("dropping a webhook queue message that is not one", parsed.error.issues[0]);
    message.ack();
    return;
  }
  const body = parsed.data;
  try {
    if (body.kind === "delivery") return await deliver(message, env, body.delivery);
    const outcome = body.kind === "event" ? await fanOutEvent(env, body) : await fanOutActivation(env, body);
    if (outcome === "done") return message.ack();
    retryStage(message, `the activation of ${body.kind === "activation" ? body.release : ""} is not served yet`);
  } catch (cause) {
    console.error(`a webhook ${body.kind} message failed`, cause);
    if (body.kind === "delivery") message.retry({ delaySeconds: RETRY_DELAYS_SECONDS[0] });
    else retryStage(message, "it failed");
  }
}

/** Retry an event stage with a growing delay, or give the event up after EVENT_STAGE_ATTEMPTS. */
function retryStage(message: Message, why: string): void {
  if (message.attempts >= EVENT_STAGE_ATTEMPTS) {
    console.error(`giving up a webhook event after ${message.attempts} attempts: ${why}`);
    message.ack();
    return;
  }
  message.retry({ delaySeconds: Math.min(5 * 2 ** (message.attempts - 1), 300) });
}

/** The repository the message is about, if that lifetime of it still exists. */
async function liveRepository(env: Env, m: { repository: string; uid: string | null }): Promise<RepositoryKey | null> {
  const row = await repositoryById(env.DB, m.repository);
  if (row === null || row.scope !== repositoryScope(m.repository, m.uid)) return null;
  return { id: m.repository, uid: m.uid };
}

type EventMessage = Extract<WebhookMessage, { kind: "event" }>;
type ActivationMessage = Extract<WebhookMessage, { kind: "activation" }>;

async function fanOutEvent(env: Env, m: EventMessage): Promise<"done"> {
  const repo = await liveRepository(env, m);
  if (repo === null) return "done";
  const hooks = await subscribers(env.DB, repo, m.event);
  if (hooks.length === 0) return "done";
  await record(env, repo, m, m.event, m.dedupe, m.data, hooks);
  return "done";
}

/**
 * Complete a release.activated payload from the object: the activation's log entry (previous,
 * when the edge started serving it), the release's dists and the packages that changed. Sent
 * only once the edge serves the release (DESIGN.md §4b: success is reported for what clients can
 * see), so a receiver that deploys on it finds the release there.
 */
async function fanOutActivation(env: Env, m: ActivationMessage): Promise<"done" | "later"> {
  const repo = await liveRepository(env, m);
  if (repo === null) return "done";
  const hooks = await subscribers(env.DB, repo, "release.activated");
  if (hooks.length === 0) return "done";
  const scope = repositoryScope(repo.id, repo.uid);
  const stub = repositoryStub(env, scope);
  const log = answerOf(await stub.activations(), `reading ${repo.id}'s activation log`);
  const entries = log.activations.filter((a) => a.release === m.release);
  // The log is newest first.
  const entry =
    m.activation === "first"
      ? entries.at(-1)
      : m.activation === "latest"
        ? entries[0]
        : entries.find((a) => a.requested_at === m.activation);
  if (entry === undefined) {
    console.error(`no activation of ${m.release} in ${repo.id}'s log; release.activated not sent`);
    return "done";
  }
  if (entry.visible_at === null) return "later";
  const data = await activationData(stub, m.release, entry);
  const dedupe = `release.activated:${scope}:${m.release}:${entry.requested_at}`;
  await record(env, repo, m, "release.activated", dedupe, data, hooks);
  return "done";
}

type Stub = ReturnType<typeof repositoryStub>;

/** An object's answer, or the error thrown for the queue to retry: the event is not sent without it. */
function answerOf<T>(result: Result<T, ApiError>, what: string): T {
  if (!result.ok) throw new Error(`${what} failed: ${result.error.code}: ${result.error.message}`);
  return result.value;
}

async function activationData(
  stub: Stub,
  release: string,
  entry: { previous: string | null; requested_at: string; visible_at: string | null },
): Promise<ReleaseActivatedData> {
  const shown = answerOf(await stub.showRelease(release), `showing release ${release}`);
  const { previous } = entry;
  let added: WebhookPackage[];
  let removed: WebhookPackage[] = [];
  let addedCount: number;
  let removedCount = 0;
  if (previous === null) {
    const listed = answerOf(
      await stub.listPackages({ release, dist: null, component: null, architecture: null, name: null }),
      `listing release ${release}`,
    );
    added = listed.packages;
    addedCount = listed.truncated ? shown.counts.reduce((n, c) => n + c.count, 0) : added.length;
  } else {
    const diff = answerOf(await stub.diffReleases(previous, release), `diffing ${previous} and ${release}`);
    ({ added, removed } = diff);
    addedCount = diff.added_count;
    removedCount = diff.removed_count;
  }
  // The dists whose packages changed: against the parent the object tracks that itself (a dist
  // signed anew with the same packages counts too); against another release, the diff says.
  const dists =
    previous === null
      ? shown.dists.map((d) => d.dist)
      : previous === shown.parent
        ? shown.dists.filter((d) => d.changed).map((d) => d.dist)
        : [...new Set([...added, ...removed].map((p) => p.dist))];
  const addedList = packageList(added, addedCount);
  const removedList = packageList(removed, removedCount);
  return {
    release,
    previous,
    rollback: isRollback(release, shown.parent, previous),
    activated_at: entry.requested_at,
    visible_at: entry.visible_at ?? entry.requested_at,
    dists: dists.sort(),
    packages: {
      added: addedList.packages,
      removed: removedList.packages,
      added_count: addedCount,
      removed_count: removedCount,
      truncated: addedList.truncated || removedList.truncated,
    },
  };
}

/** Release ids are `r{n}`, numbered in creation order. */
function sequence(id: string | null): number | null {
  const m = id === null ? null : /^r(\d+)$/.exec(id);
  return m?.[1] === undefined ? null : Number(m[1]);
}

/**
 * An older release brought back: activated again itself (older than the one it replaces), or
 * made from an older one than that to be signed anew (`armor release rollback`: its parent is).
 */
export function isRollback(release: string, parent: string | null, previous: string | null): boolean {
  const prev = sequence(previous);
  if (prev === null) return false;
  const own = sequence(release);
  const from = sequence(parent);
  return (own !== null && own < prev) || (from !== null && from < prev);
}

/** Fix the payload, record the event and its deliveries, and enqueue one message per delivery. */
async function record(
  env: Env,
  repo: RepositoryKey,
  m: { id: string; time: string },
  event: WebhookEvent,
  dedupe: string,
  data: unknown,
  hooks: string[],
): Promise<void> {
  const payload = JSON.stringify({ id: m.id, event, repository: repo.id, time: m.time, data });
  const pending = await recordEvent(
    env.DB,
    { id: m.id, repository: repo, event, dedupe, payload, createdAt: m.time },
    hooks,
  );
  if (pending === null || pending.length === 0) return;
  await env.WEBHOOKS.sendBatch(
    pending.map((d) => ({ body: { kind: "delivery", delivery: d.id } satisfies WebhookMessage, contentType: "json" })),
  );
}

/** One attempt at one delivery; recorded whatever happens, then acknowledged or retried. */
async function deliver(message: Message, env: Env, id: string): Promise<void> {
  const d = await deliveryToSend(env.DB, id);
  // Gone with its webhook or repository, or settled by an earlier copy of this message.
  if (d === null || d.state !== "pending") return message.ack();
  const attempt = d.attempts + 1;
  const refusal = await ownHostRefusal(env, bareHost(new URL(d.url).hostname));
  if (refusal !== null) {
    await recordAttempt(
      env.DB,
      d.id,
      { at: new Date().toISOString(), status: null, duration_ms: 0, error: `not sent: ${refusal}` },
      "failed",
    );
    return message.ack();
  }
  const result = await send({
    url: d.url,
    secret: d.secret,
    event: d.event,
    deliveryId: d.id,
    webhookId: d.webhookId,
    body: d.payload,
  });
  const { ok, ...recorded } = result;
  const last = attempt >= MAX_ATTEMPTS;
  await recordAttempt(env.DB, d.id, recorded, ok ? "delivered" : last ? "failed" : "pending");
  if (ok || last) return message.ack();
  message.retry({ delaySeconds: RETRY_DELAYS_SECONDS[attempt - 1] ?? RETRY_DELAYS_SECONDS.at(-1) });
}
