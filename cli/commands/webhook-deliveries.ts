import type { Command } from "commander";
import { type Delivery, DeliveryListSchema, WebhookIdSchema } from "../../schema/webhooks.ts";
import { CommandContext } from "../context.ts";
import type { Io } from "../output.ts";
import { table } from "../output.ts";
import { parseOption } from "./parse.ts";

/** One row per attempt (a delivery not tried yet gets one row of its own), the newest delivery first. */
export function deliveryRows(deliveries: Delivery[]): string[][] {
  return deliveries.flatMap((d) =>
    d.attempts.length === 0
      ? [[d.id, d.event, d.state, "-", "-", "-", "-", "not tried yet"]]
      : d.attempts.map((a, i) => [
          d.id,
          d.event,
          d.state,
          String(i + 1),
          a.at,
          a.status === null ? "-" : String(a.status),
          `${a.duration_ms} ms`,
          a.error ?? "ok",
        ]),
  );
}

export function register(webhook: Command, io: Io): void {
  webhook
    .command("deliveries")
    .description("a webhook's deliveries, newest first, with every attempt: status, duration, error (admin)")
    .argument("<id>", "the webhook's id, as armor webhook list shows it")
    .addHelpText("after", "\nExample:\n  armor webhook deliveries --repository acme/tools wh_3f9c2a61b0d4e857")
    .action(async (id: string, _options: unknown, command: Command) => {
      const ctx = new CommandContext(command, io);
      const webhookId = parseOption(WebhookIdSchema, id, "webhook id");
      const listed = await ctx.client.parsed(
        DeliveryListSchema,
        ctx.client.repo(ctx.repository, `/webhooks/${webhookId}/deliveries`),
      );
      ctx.out.result(listed, () =>
        listed.deliveries.length === 0
          ? `no deliveries yet; armor webhook test ${webhookId} sends a ping`
          : table(
              ["DELIVERY", "EVENT", "STATE", "ATTEMPT", "AT", "STATUS", "DURATION", "ERROR"],
              deliveryRows(listed.deliveries),
            ),
      );
    });
}
