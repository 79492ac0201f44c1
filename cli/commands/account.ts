import type { Command } from "commander";
import { CommandContext } from "../context.ts";
import type { Io } from "../output.ts";
import { table } from "../output.ts";

interface Account {
  name: string;
  platform_admin: boolean;
  created_at: string;
}

export function register(program: Command, io: Io): void {
  const account = program.command("account").description("accounts (platform admins; needs the accounts sidecar)");

  account
    .command("create")
    .description("create an account; then `armor token create --account NAME` gives it a token")
    .argument("<name>", "lowercase letters, digits and -")
    .option("--platform-admin", "may administer every repository")
    .addHelpText(
      "after",
      "\nExample:\n  armor account create ci-bot && armor token create --account ci-bot --name github-actions",
    )
    .action(async (name: string, options: { platformAdmin?: boolean }, command: Command) => {
      const ctx = new CommandContext(command, io);
      const created = await ctx.client.json<Account>("/api/v1/accounts", {
        json: { name, platform_admin: options.platformAdmin === true },
      });
      ctx.out.result(
        created,
        () => `created account ${created.name}${created.platform_admin ? " (platform admin)" : ""}`,
      );
    });

  account
    .command("list")
    .description("list accounts")
    .addHelpText("after", "\nExample:\n  armor account list")
    .action(async (_options: unknown, command: Command) => {
      const ctx = new CommandContext(command, io);
      const listed = await ctx.client.json<{ accounts: Account[] }>("/api/v1/accounts");
      ctx.out.result(listed, () =>
        table(
          ["ACCOUNT", "PLATFORM ADMIN", "CREATED"],
          listed.accounts.map((a) => [a.name, a.platform_admin ? "yes" : "no", a.created_at]),
        ),
      );
    });
}
