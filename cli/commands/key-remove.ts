import type { Command } from "commander";
import { RemovedKeySchema } from "../../schema/responses.ts";
import { CommandContext } from "../context.ts";
import type { Io } from "../output.ts";

export function register(key: Command, io: Io): void {
  key
    .command("remove")
    .description("stop trusting a key (a revoked key stays listed, revoked: see key add)")
    .argument("<fingerprint>", "its fingerprint")
    .addHelpText(
      "after",
      "\nExample:\n  armor key remove --repository acme/tools C40921A4DC139A6C66D1D6CEF9FE940191D96B5C",
    )
    .action(async (fingerprint: string, _options: unknown, command: Command) => {
      const ctx = new CommandContext(command, io);
      const removed = await ctx.client.json(
        ctx.client.repo(ctx.repository, `/keys/${fingerprint.replace(/\s+/g, "")}`),
        RemovedKeySchema,
        { method: "DELETE" },
      );
      ctx.out.result(removed, () => `removed ${removed.removed}`);
    });
}
