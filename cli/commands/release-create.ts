import type { Command } from "commander";
import { ReleaseSummarySchema } from "../../schema/responses.ts";
import { CommandContext } from "../context.ts";
import type { Io } from "../output.ts";

export function register(release: Command, io: Io): void {
  release
    .command("create")
    .description("open a new release, from the active one (default), from another release, or empty")
    .option("--from <release>", 'the release to start from: "active", "empty" or a release id', "active")
    .addHelpText("after", "\nExample:\n  armor release create --repository acme/tools --from empty")
    .action(async (options: { from: string }, command: Command) => {
      const ctx = new CommandContext(command, io);
      const created = await ctx.client.json(ctx.client.repo(ctx.repository, "/releases"), ReleaseSummarySchema, {
        json: { from: options.from },
      });
      ctx.out.result(
        created,
        () => `opened release ${created.id}${created.parent ? ` from ${created.parent}` : " (empty)"}`,
      );
    });
}
