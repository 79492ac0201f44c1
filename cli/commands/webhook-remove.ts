import type { Command } from "commander";
import { RemovedWebhookSchema, WebhookIdSchema } from "../../schema/webhooks.ts";
import { CommandContext } from "../context.ts";
import type { Io } from "../output.ts";
import { parseOption } from "./parse.ts";

export function register(webhook: Command, io: Io): void {
  webhook
    .command("remove")
    .description("remove a webhook and its delivery history (admin)")
    .argument("<id>", "the webhook's id, as armor webhook list shows it")
    .addHelpText("after", "\nExample:\n  armor webhook remove --repository acme/tools wh_3f9c2a61b0d4e857")
    .action(async (id: string, _options: unknown, command: Command) => {
      const ctx = new CommandContext(command, io);
      const webhookId = parseOption(WebhookIdSchema, id, "webhook id");
      const removed = await ctx.client.parsed(
        RemovedWebhookSchema,
        ctx.client.repo(ctx.repository, `/webhooks/${webhookId}`),
        { method: "DELETE" },
      );
      ctx.out.result(removed, () => `removed webhook ${removed.removed}`);
    });
}
