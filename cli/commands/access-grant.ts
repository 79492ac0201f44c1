import type { Command } from "commander";
import { GrantEntrySchema, RoleSchema } from "../../schema/sidecar.ts";
import { CommandContext } from "../context.ts";
import type { Io } from "../output.ts";
import { principal } from "./access-principal.ts";
import { parseOption } from "./parse.ts";

export function register(access: Command, io: Io): void {
  access
    .command("grant")
    .description("give an account (all its tokens) or one token a role: viewer, uploader or admin")
    .option("--account <account>", "the account")
    .option("--token-id <id>", "or one token")
    .requiredOption("--role <role>", "viewer (read private), uploader (add packages, publish) or admin")
    .addHelpText("after", "\nExample:\n  armor access grant --repository acme/tools --account ci-bot --role uploader")
    .action(async (options: { account?: string; tokenId?: string; role: string }, command: Command) => {
      const ctx = new CommandContext(command, io);
      const role = parseOption(RoleSchema, options.role, "--role");
      const grant = await ctx.client.json(ctx.client.repo(ctx.repository, "/access"), GrantEntrySchema, {
        json: { ...principal(options), role },
      });
      ctx.out.result(
        grant,
        () => `granted ${grant.role} on ${ctx.repository} to ${options.account ?? `token ${options.tokenId}`}`,
      );
    });
}
