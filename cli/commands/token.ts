import type { Command } from "commander";
import { CreatedTokenSchema, TokenListSchema, TokenSchema } from "../../schema/sidecar.ts";
import { CommandContext } from "../context.ts";
import { UserError } from "../errors.ts";
import type { Io } from "../output.ts";
import { table } from "../output.ts";

export function register(program: Command, io: Io): void {
  const token = program.command("token").description("API tokens (needs the accounts sidecar)");

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

  token
    .command("list")
    .description("list your tokens (platform admins: --account)")
    .option("--account <account>", "another account's tokens")
    .addHelpText("after", "\nExample:\n  armor token list --json")
    .action(async (options: { account?: string }, command: Command) => {
      const ctx = new CommandContext(command, io);
      const q = options.account ? `?account=${encodeURIComponent(options.account)}` : "";
      const listed = await ctx.client.json(`/api/v1/tokens${q}`, TokenListSchema);
      ctx.out.result(listed, () =>
        table(
          ["ID", "NAME", "PREFIX", "ACCOUNT", "EXPIRES", "LAST USED", "REVOKED"],
          listed.tokens.map((t) => [
            t.id,
            t.name,
            t.prefix,
            t.account,
            t.expires_at ?? "never",
            t.last_used_at ?? "-",
            t.revoked_at ?? "-",
          ]),
        ),
      );
    });

  token
    .command("revoke")
    .description(
      "revoke a token: the sidecar refuses it at once, and every edge stops accepting it within AUTH_CACHE_SECONDS (30 by default), the time its answers are cached",
    )
    .argument("<id>", "token id (from armor token list)")
    .addHelpText("after", "\nExample:\n  armor token revoke 3f2a…")
    .action(async (id: string, _options: unknown, command: Command) => {
      const ctx = new CommandContext(command, io);
      const revoked = await ctx.client.json(`/api/v1/tokens/${encodeURIComponent(id)}`, TokenSchema, {
        method: "DELETE",
      });
      ctx.out.result(revoked, () => `revoked ${revoked.id} (${revoked.name})`);
    });
}
