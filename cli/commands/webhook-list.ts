import type { Command } from "commander";
import { WebhookListSchema } from "../../schema/webhooks.ts";
import { CommandContext } from "../context.ts";
import type { Io } from "../output.ts";
import { table } from "../output.ts";

export function register(webhook: Command, io: Io): void {
  webhook
    .command("list")
    .description("list the repository's webhooks (their secrets are never shown) (admin)")
    .addHelpText("after", "\nExample:\n  armor webhook list --repository acme/tools")
    .action(async (_options: unknown, command: Command) => {
      const ctx = new CommandContext(command, io);
      const listed = await ctx.client.parsed(WebhookListSchema, ctx.client.repo(ctx.repository, "/webhooks"));
      ctx.out.result(listed, () =>
        listed.webhooks.length === 0
          ? "no webhooks; add one with armor webhook add --url URL --secret SECRET"
          : table(
              ["ID", "URL", "EVENTS", "CREATED"],
              listed.webhooks.map((w) => [w.id, w.url, w.events.join(","), w.created_at]),
            ),
      );
    });
}
