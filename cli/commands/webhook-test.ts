import type { Command } from "commander";
import { type Delivery, DeliveryListSchema, DeliverySchema, WebhookIdSchema } from "../../schema/webhooks.ts";
import { CommandContext } from "../context.ts";
import { UserError } from "../errors.ts";
import type { Io } from "../output.ts";
import { waitSeconds } from "../publishing.ts";
import { parseOption } from "./parse.ts";

const POLL_MS = 500;

export function register(webhook: Command, io: Io): void {
  webhook
    .command("test")
    .description("send a webhook a ping event and say how its receiver answered (admin)")
    .argument("<id>", "the webhook's id, as armor webhook list shows it")
    .option("--wait <seconds>", "how long to wait for the receiver's first answer (0: do not wait)", "15")
    .addHelpText("after", "\nExample:\n  armor webhook test --repository acme/tools wh_3f9c2a61b0d4e857")
    .action(async (id: string, options: { wait: string }, command: Command) => {
      const ctx = new CommandContext(command, io);
      const webhookId = parseOption(WebhookIdSchema, id, "webhook id");
      const seconds = waitSeconds(options.wait);
      const sent = await ctx.client.parsed(
        DeliverySchema,
        ctx.client.repo(ctx.repository, `/webhooks/${webhookId}/test`),
        { method: "POST" },
      );
      // The ping goes through the same queue as every event: wait for its first attempt.
      let seen: Delivery = sent;
      const deadline = Date.now() + seconds * 1000;
      while (seen.attempts.length === 0 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
        const listed = await ctx.client.parsed(
          DeliveryListSchema,
          ctx.client.repo(ctx.repository, `/webhooks/${webhookId}/deliveries`),
        );
        seen = listed.deliveries.find((d) => d.id === sent.id) ?? seen;
      }
      const first = seen.attempts[0];
      if (first !== undefined && first.error !== null) {
        throw new UserError(`the receiver failed the ping (delivery ${seen.id}): ${first.error}`, {
          hint: `it is tried again with backoff; armor webhook deliveries ${webhookId} shows every attempt`,
          code: "delivery_failed",
        });
      }
      ctx.out.result(seen, () =>
        first === undefined
          ? `ping queued as delivery ${seen.id}, not tried within ${seconds} s; armor webhook deliveries ${webhookId} shows how it goes`
          : `ping delivered (delivery ${seen.id}): HTTP ${first.status} in ${first.duration_ms} ms`,
      );
    });
}
