import type { Command } from "commander";
import { ReleaseListSchema } from "../../schema/responses.ts";
import { CommandContext } from "../context.ts";
import type { Io } from "../output.ts";
import { table } from "../output.ts";

export function register(release: Command, io: Io): void {
  release
    .command("list")
    .description("list releases, newest first")
    .addHelpText("after", "\nExample:\n  armor release list --repository acme/tools")
    .action(async (_options: unknown, command: Command) => {
      const ctx = new CommandContext(command, io);
      const listed = await ctx.client.json(ctx.client.repo(ctx.repository, "/releases"), ReleaseListSchema);
      ctx.out.result(listed, () =>
        table(
          ["RELEASE", "STATE", "PARENT", "GENERATION", "CREATED", "ACTIVATED"],
          listed.releases.map((r) => [
            r.id,
            r.state,
            r.parent ?? "-",
            String(r.generation),
            r.created_at,
            r.activated_at ?? "-",
          ]),
        ),
      );
    });
}
