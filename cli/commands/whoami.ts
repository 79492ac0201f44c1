import type { Command } from "commander";
import { type Whoami, WhoamiSchema } from "../../schema/sidecar.ts";
import { CommandContext } from "../context.ts";
import { type Io, table } from "../output.ts";

export function register(program: Command, io: Io): void {
  program
    .command("whoami")
    .description("show the account and token in use, and the roles it holds")
    .addHelpText("after", "\nExample:\n  armor whoami --json")
    .action(async (_options: unknown, command: Command) => {
      const ctx = new CommandContext(command, io);
      const who = await ctx.client.json("/api/v1/whoami", WhoamiSchema);
      ctx.out.result(who, () =>
        [
          `${describeWho(who)} at ${ctx.settings.endpoint}`,
          ...(who.token === null
            ? []
            : [`token ${who.token.name} (${who.token.prefix}…), expires ${who.token.expires_at ?? "never"}`]),
          who.grants.length === 0
            ? who.kind === "operator"
              ? "every role on every repository"
              : "no roles on any repository"
            : table(
                ["REPOSITORY", "ROLE", "VIA"],
                who.grants.map((g) => [g.repository, g.role, g.via]),
              ),
        ].join("\n"),
      );
    });
}

export function describeWho(who: Whoami): string {
  if (who.kind === "operator") return "the operator (the deployment's operator token)";
  return `${who.account}${who.platform_admin ? " (platform admin)" : ""}`;
}
