import type { Command } from "commander";
import { AccountListSchema, AccountSchema } from "../../schema/sidecar.ts";
import { CommandContext } from "../context.ts";
import type { Io } from "../output.ts";
import { table } from "../output.ts";

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
      const created = await ctx.client.json("/api/v1/accounts", AccountSchema, {
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
      const listed = await ctx.client.json("/api/v1/accounts", AccountListSchema);
      ctx.out.result(listed, () =>
        table(
          ["ACCOUNT", "PLATFORM ADMIN", "CREATED"],
          listed.accounts.map((a) => [a.name, a.platform_admin ? "yes" : "no", a.created_at]),
        ),
      );
    });
}
