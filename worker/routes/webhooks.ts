/**
 * Webhooks, below /api/v1/repositories/:owner/:name (admin role on the repository):
 *
 *   GET    /webhooks                    list (never the secrets)
 *   POST   /webhooks                    add {url, secret, events?} → 201, the webhook without its secret
 *   DELETE /webhooks/:id                remove it and its delivery history
 *   POST   /webhooks/:id/test           send it a `ping` → 202, the delivery (pending)
 *   GET    /webhooks/:id/deliveries     its deliveries, newest first, each with every attempt
 *
 * Events are enqueued by the routes that change things (worker/webhooks/events.ts) and delivered by
 * the queue consumer (worker/webhooks/consumer.ts).
 */
import { Hono } from "hono";
import type { z } from "zod";
import {
  countWebhooks,
  deleteWebhook,
  findWebhook,
  insertWebhook,
  listDeliveries,
  listWebhooks,
  recordPing,
} from "../../d1/webhooks.ts";
import {
  CreateWebhookSchema,
  type PingDataSchema,
  WebhookIdSchema,
  type WebhookMessage,
} from "../../schema/webhooks.ts";
import { authorize } from "../access.ts";
import type { ApiEnv } from "../context.ts";
import { fail, jsonBody, parseWith } from "../errors.ts";
import { repositoryKey } from "../webhooks/events.ts";
import { checkReceiverUrl } from "../webhooks/urls.ts";

/** As GitHub allows per repository: enough for a few systems, few enough that one event stays cheap. */
export const MAX_WEBHOOKS = 20;

export const webhookRoutes = new Hono<ApiEnv>();

webhookRoutes.get("/webhooks", async (c) => {
  const repo = c.get("repository");
  await authorize(c, repo, "admin");
  return c.json({ webhooks: await listWebhooks(c.env.DB, repositoryKey(repo)) });
});

webhookRoutes.post("/webhooks", async (c) => {
  const repo = c.get("repository");
  await authorize(c, repo, "admin");
  const input = await jsonBody(c, CreateWebhookSchema);
  const checked = await checkReceiverUrl(c.env, input.url, c.req.url);
  if (!checked.ok) return fail("invalid_request", checked.message, { field: "url" });
  const key = repositoryKey(repo);
  if ((await countWebhooks(c.env.DB, key)) >= MAX_WEBHOOKS) {
    return fail("too_many_webhooks", `${repo.id} has ${MAX_WEBHOOKS} webhooks already; remove one first`, {
      limit: MAX_WEBHOOKS,
    });
  }
  const hook = await insertWebhook(c.env.DB, key, {
    id: newWebhookId(),
    url: checked.url,
    secret: input.secret,
    events: input.events,
    createdAt: new Date().toISOString(),
  });
  return c.json(hook, 201);
});

webhookRoutes.delete("/webhooks/:id", async (c) => {
  const repo = c.get("repository");
  await authorize(c, repo, "admin");
  const id = parseWith(WebhookIdSchema, c.req.param("id"), "webhook");
  if (!(await deleteWebhook(c.env.DB, repositoryKey(repo), id))) return notFound(repo.id, id);
  return c.json({ removed: id });
});

webhookRoutes.post("/webhooks/:id/test", async (c) => {
  const repo = c.get("repository");
  await authorize(c, repo, "admin");
  const id = parseWith(WebhookIdSchema, c.req.param("id"), "webhook");
  const key = repositoryKey(repo);
  const hook = await findWebhook(c.env.DB, key, id);
  if (hook === null) return notFound(repo.id, id);
  const eventId = crypto.randomUUID();
  const time = new Date().toISOString();
  const data: z.infer<typeof PingDataSchema> = { webhook: hook.id, url: hook.url, events: hook.events };
  const payload = JSON.stringify({ id: eventId, event: "ping", repository: repo.id, time, data });
  const delivery = await recordPing(
    c.env.DB,
    { id: eventId, repository: key, event: "ping", dedupe: `ping:${eventId}`, payload, createdAt: time },
    hook.id,
  );
  await c.env.WEBHOOKS.send({ kind: "delivery", delivery: delivery.id } satisfies WebhookMessage, {
    contentType: "json",
  });
  return c.json(delivery, 202);
});

webhookRoutes.get("/webhooks/:id/deliveries", async (c) => {
  const repo = c.get("repository");
  await authorize(c, repo, "admin");
  const id = parseWith(WebhookIdSchema, c.req.param("id"), "webhook");
  if ((await findWebhook(c.env.DB, repositoryKey(repo), id)) === null) return notFound(repo.id, id);
  return c.json({ deliveries: await listDeliveries(c.env.DB, id) });
});

function notFound(repository: string, id: string): never {
  return fail("webhook_not_found", `${repository} has no webhook ${id}; armor webhook list shows its webhooks`, {
    webhook: id,
  });
}

/** `wh_` and 64 random bits as hex. */
function newWebhookId(): string {
  return `wh_${[...crypto.getRandomValues(new Uint8Array(8))].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
}
