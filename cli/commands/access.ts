import type { Command } from "commander";
import { GrantEntrySchema, GrantListSchema, RoleSchema } from "../../schema/sidecar.ts";
import { CommandContext } from "../context.ts";
import { UserError } from "../errors.ts";
import type { Io } from "../output.ts";
import { table } from "../output.ts";
import { parseOption } from "./parse.ts";

function principal(options: { account?: string; tokenId?: string }): { account: string } | { token_id: string } {
  if ((options.account === undefined) === (options.tokenId === undefined)) {
    throw new UserError("name exactly one of --account or --token-id", { code: "usage", exitCode: 2 });
  }
  return options.account !== undefined ? { account: options.account } : { token_id: options.tokenId ?? "" };
}

export function register(program: Command, io: Io): void {
  const access = program.command("access").description("who may do what to a repository (needs the accounts sidecar)");

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
