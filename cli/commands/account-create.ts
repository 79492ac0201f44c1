import type { Command } from "commander";
import { AccountSchema } from "../../schema/sidecar.ts";
import { CommandContext } from "../context.ts";
import type { Io } from "../output.ts";

export function register(account: Command, io: Io): void {
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
}
