import type { Command } from "commander";
import { GrantListSchema } from "../../schema/sidecar.ts";
import { CommandContext } from "../context.ts";
import type { Io } from "../output.ts";
import { table } from "../output.ts";

export function register(access: Command, io: Io): void {
  access
    .command("list")
    .description("list a repository's grants")
    .addHelpText("after", "\nExample:\n  armor access list --repository acme/tools")
    .action(async (_options: unknown, command: Command) => {
      const ctx = new CommandContext(command, io);
      const listed = await ctx.client.json(ctx.client.repo(ctx.repository, "/access"), GrantListSchema);
      ctx.out.result(listed, () =>
        table(
          ["PRINCIPAL", "ROLE"],
          listed.grants.map((g) => [g.account ? `account ${g.account}` : `token ${g.token_id}`, g.role]),
        ),
      );
    });
}
