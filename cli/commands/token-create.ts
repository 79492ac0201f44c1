import type { Command } from "commander";
import { CreatedTokenSchema } from "../../schema/sidecar.ts";
import { CommandContext } from "../context.ts";
import { UserError } from "../errors.ts";
import type { Io } from "../output.ts";

export function register(token: Command, io: Io): void {
  token
    .command("create")
    .description("create a token; it is shown once, keep it in your CI's secrets")
    .requiredOption("--name <name>", "what it is for, e.g. github-actions")
    .option("--account <account>", "for another account (platform admins)")
    .option("--expires-in-days <days>", "expire after this many days")
    .addHelpText("after", "\nExample:\n  armor token create --name github-actions --expires-in-days 90")
    .action(async (options: { name: string; account?: string; expiresInDays?: string }, command: Command) => {
      const ctx = new CommandContext(command, io);
      const days = options.expiresInDays === undefined ? undefined : Number(options.expiresInDays);
      if (days !== undefined && (!Number.isInteger(days) || days < 1))
        throw new UserError("--expires-in-days must be a whole number of days");
      const created = await ctx.client.json("/api/v1/tokens", CreatedTokenSchema, {
        json: {
          name: options.name,
          ...(options.account ? { account: options.account } : {}),
          ...(days ? { expires_in_days: days } : {}),
        },
      });
      ctx.out.result(created, () => `${created.token}\n`);
      ctx.out.log(`created token ${created.id} (${created.name}) for ${created.account}; it is shown only this once`);
    });
}
