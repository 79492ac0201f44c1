import type { Command } from "commander";
import { TokenListSchema } from "../../schema/sidecar.ts";
import { CommandContext } from "../context.ts";
import type { Io } from "../output.ts";
import { table } from "../output.ts";

export function register(token: Command, io: Io): void {
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
}
