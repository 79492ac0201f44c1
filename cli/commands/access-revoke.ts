import type { Command } from "commander";
import { CommandContext } from "../context.ts";
import type { Io } from "../output.ts";
import { principal } from "./access-principal.ts";

export function register(access: Command, io: Io): void {
  access
    .command("revoke")
    .description("take a grant away")
    .addHelpText("after", "\nExample:\n  armor access revoke --repository acme/tools --account ci-bot")
    .option("--account <account>", "the account")
    .option("--token-id <id>", "or one token")
    .action(async (options: { account?: string; tokenId?: string }, command: Command) => {
      const ctx = new CommandContext(command, io);
      await ctx.client.request(ctx.client.repo(ctx.repository, "/access"), {
        method: "DELETE",
        json: principal(options),
      });
      ctx.out.result(
        { revoked: true },
        () => `revoked access to ${ctx.repository} for ${options.account ?? `token ${options.tokenId}`}`,
      );
    });
}
