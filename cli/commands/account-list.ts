import type { Command } from "commander";
import { AccountListSchema } from "../../schema/sidecar.ts";
import { CommandContext } from "../context.ts";
import type { Io } from "../output.ts";
import { table } from "../output.ts";

export function register(account: Command, io: Io): void {
  account
    .command("list")
    .description("list accounts")
    .addHelpText("after", "\nExample:\n  armor account list")
    .action(async (_options: unknown, command: Command) => {
      const ctx = new CommandContext(command, io);
      const listed = await ctx.client.json("/api/v1/accounts", AccountListSchema);
      ctx.out.result(listed, () =>
        table(
          ["ACCOUNT", "PLATFORM ADMIN", "CREATED"],
          listed.accounts.map((a) => [a.name, a.platform_admin ? "yes" : "no", a.created_at]),
        ),
      );
    });
}
