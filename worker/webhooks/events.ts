/**
 * The request path's side of webhooks: after a route's object call succeeded, one queue message
 * per event, sent in `waitUntil` so the answer never waits for it (nor for D1's "does this
 * repository have any webhook that wants it?", asked first to spare the queue the events nobody
 * listens to). The consumer (consumer.ts) fans each event out to the webhooks. A failure to enqueue
 * is logged and loses that event; it never fails the request, whose change is already made.
 */

import type { z } from "zod";
import { type RepositoryKey, subscribers } from "../../d1/webhooks.ts";
import {
  type KeyAddedDataSchema,
  type KeyRemovedDataSchema,
  PAYLOAD_PACKAGES_LIMIT,
  type PackageAddedDataSchema,
  type PackageRemovedDataSchema,
  type WebhookEvent,
  type WebhookKeySchema,
  type WebhookMessage,
  type WebhookPackage,
} from "../../schema/webhooks.ts";
import type { RepositoryRow } from "../repositories.ts";

/** What emitting needs of a Hono context (or anything with the bindings and waitUntil). */
export interface EmitContext {
  env: Env;
  executionCtx: { waitUntil(promise: Promise<unknown>): void };
}

/** A queue message is at most 128 KB; the package list is shortened until a message stays below this. */
const MESSAGE_BUDGET_BYTES = 100_000;

/**
 * The code of an object's refusal, or null. (Its RPC type loses the error branch, whose `details`
 * are not serializable as typed, so the answer is read as what it is at run time.)
 */
export function refusalCode(result: object): string | null {
  if (!("error" in result)) return null;
  const { error } = result;
  return typeof error === "object" && error !== null && "code" in error && typeof error.code === "string"
    ? error.code
    : null;
}

/** The repository's id and creation id, from the row's scope (`{id}/{uid}`, or the id alone before uids). */
export function repositoryKey(repo: Pick<RepositoryRow, "id" | "scope">): RepositoryKey {
  return { id: repo.id, uid: repo.scope === repo.id ? null : repo.scope.slice(repo.id.length + 1) };
}

function enqueue(c: EmitContext, repo: RepositoryRow, event: WebhookEvent, message: WebhookMessage): void {
  const key = repositoryKey(repo);
  const work = async () => {
    if ((await subscribers(c.env.DB, key, event)).length === 0) return;
    await c.env.WEBHOOKS.send(message, { contentType: "json" });
  };
  c.executionCtx.waitUntil(
    work().catch((cause: unknown) => {
      console.error(`enqueueing a ${event} webhook event for ${repo.id} failed; it is not delivered`, cause);
    }),
  );
}

function eventMessage<D extends Record<string, unknown>>(
  repo: RepositoryRow,
  event: WebhookEvent,
  data: D,
  dedupe?: string,
): WebhookMessage {
  const id = crypto.randomUUID();
  const { uid } = repositoryKey(repo);
  return {
    kind: "event",
    id,
    repository: repo.id,
    uid,
    time: new Date().toISOString(),
    event,
    dedupe: dedupe ?? `event:${id}`,
    data,
  };
}

/** Only the fields a payload names, whatever else the object's member summary carries. */
function toPackage(m: WebhookPackage): WebhookPackage {
  return {
    name: m.name,
    version: m.version,
    architecture: m.architecture,
    sha256: m.sha256,
    size: m.size,
    dist: m.dist,
    component: m.component,
    filename: m.filename,
  };
}

/** The first packages of a change, as many as fit a payload; `count` says how many there were. */
export function packageList(members: readonly WebhookPackage[], total = members.length) {
  let limit = Math.min(members.length, PAYLOAD_PACKAGES_LIMIT);
  let packages = members.slice(0, limit).map(toPackage);
  while (limit > 0 && JSON.stringify(packages).length > MESSAGE_BUDGET_BYTES) {
    limit = Math.floor(limit / 2);
    packages = packages.slice(0, limit);
  }
  return { packages, count: total, truncated: packages.length < total };
}

/** `POST …/packages` added these to the open release (nothing is sent when all were there already). */
export function packagesAdded(
  c: EmitContext,
  repo: RepositoryRow,
  answer: { release: string; generation: number; added: WebhookPackage[] },
  where: { dist: string; component: string },
): void {
  if (answer.added.length === 0) return;
  const data: z.infer<typeof PackageAddedDataSchema> = {
    release: answer.release,
    generation: answer.generation,
    dist: where.dist,
    component: where.component,
    ...packageList(answer.added),
  };
  enqueue(c, repo, "package.added", eventMessage(repo, "package.added", data));
}

/** `POST …/packages/remove` took these out of the open release. */
export function packagesRemoved(
  c: EmitContext,
  repo: RepositoryRow,
  answer: { release: string; generation: number; removed: WebhookPackage[] },
  dist: string,
): void {
  if (answer.removed.length === 0) return;
  const data: z.infer<typeof PackageRemovedDataSchema> = {
    release: answer.release,
    generation: answer.generation,
    dist,
    ...packageList(answer.removed),
  };
  enqueue(c, repo, "package.removed", eventMessage(repo, "package.removed", data));
}

/**
 * A release became active (a submit that completed it, or POST …/activate), or is active in the
 * object with the edge's pointer still pending (503 activation_pending): the consumer sends
 * release.activated once the edge serves it, with what changed. `activation` says which of the
 * release's activations (WebhookMessageSchema): its time when the answer said it, else `first`
 * for a submit and `latest` for POST …/activate.
 */
export function releaseActivated(
  c: EmitContext,
  repo: RepositoryRow,
  release: string,
  activation: "first" | "latest" | (string & {}),
): void {
  const { uid } = repositoryKey(repo);
  enqueue(c, repo, "release.activated", {
    kind: "activation",
    id: crypto.randomUUID(),
    repository: repo.id,
    uid,
    time: new Date().toISOString(),
    release,
    activation,
  });
}

interface KeyAnswer {
  fingerprint: string;
  status: "trusted" | "revoked";
  user_ids: string[];
  algorithm: string;
  added_at: string;
  revoked_at: string | null;
  revocation_reason: string | null;
}

function webhookKey(k: KeyAnswer): z.infer<typeof WebhookKeySchema> {
  return {
    fingerprint: k.fingerprint,
    status: k.status,
    user_ids: k.user_ids,
    algorithm: k.algorithm,
    revoked_at: k.revoked_at,
    revocation_reason: k.revocation_reason,
  };
}

/**
 * `POST …/keys` answered: a key trusted (key.added), or revoked (key.removed, reason "revoked").
 * Giving the same key or revocation again reports nothing new: the dedupe key is the moment the
 * repository learned it, which a merge keeps.
 */
export function keyAnswered(c: EmitContext, repo: RepositoryRow, key: KeyAnswer): void {
  if (key.status === "revoked") {
    const data: z.infer<typeof KeyRemovedDataSchema> = {
      fingerprint: key.fingerprint,
      reason: "revoked",
      key: webhookKey(key),
    };
    const dedupe = `key.revoked:${repo.scope}:${key.fingerprint}:${key.revoked_at ?? ""}`;
    enqueue(c, repo, "key.removed", eventMessage(repo, "key.removed", data, dedupe));
    return;
  }
  const data: z.infer<typeof KeyAddedDataSchema> = { key: webhookKey(key) };
  const dedupe = `key.added:${repo.scope}:${key.fingerprint}:${key.added_at}`;
  enqueue(c, repo, "key.added", eventMessage(repo, "key.added", data, dedupe));
}

/** `DELETE …/keys/{fingerprint}`: no longer trusted. */
export function keyRemoved(c: EmitContext, repo: RepositoryRow, fingerprint: string): void {
  const data: z.infer<typeof KeyRemovedDataSchema> = { fingerprint, reason: "removed", key: null };
  enqueue(c, repo, "key.removed", eventMessage(repo, "key.removed", data));
}
