import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { type Whoami, WhoamiSchema } from "../../schema/sidecar.ts";
import { ApiClient } from "../client.ts";
import { readConfigFile, writeConfigFile } from "../config.ts";
import { CommandContext } from "../context.ts";
import { UserError } from "../errors.ts";
import { type Io, table } from "../output.ts";

export function register(program: Command, io: Io): void {
  program
    .command("login")
    .description("store the endpoint and API token in the config file (mode 0600)")
    .option("--with-token", "read the token from stdin (for scripts)")
    .addHelpText(
      "after",
      '\nExamples:\n  armor login --endpoint https://armor.example.com\n  echo "$TOKEN" | armor login --endpoint https://armor.example.com --with-token',
    )
    .action(async (options: { withToken?: boolean }, command: Command) => {
      const ctx = new CommandContext(command, io);
      const endpoint = ctx.settings.endpoint;
      if (!endpoint)
        throw new UserError("no endpoint given", { hint: "armor login --endpoint https://armor.example.com" });
      let token = command.optsWithGlobals<{ token?: string }>().token;
      if (token === undefined && options.withToken) token = readFileSync(0, "utf8").trim();
      if (token === undefined && io.prompt) token = (await io.prompt("API token: ")).trim();
      if (!token)
        throw new UserError("no token given", { hint: "pass --token, --with-token (stdin), or run on a terminal" });
      const client = new ApiClient({ endpoint, token, attempts: 2 });
      // The token is checked before it is stored: a refused one (401) is reported and nothing is written.
      const who = await client.json("/api/v1/whoami", WhoamiSchema);
      const path = ctx.settings.configPath;
      writeConfigFile(path, { ...readConfigFile(path), endpoint, token });
      ctx.out.result(
        { endpoint, config: path, account: who.account, kind: who.kind },
        () => `logged in to ${endpoint} as ${describeWho(who)}; settings in ${path}`,
      );
    });

  program
    .command("logout")
    .description(
      "remove the API token from the config file (the token itself stays valid: revoke it with armor token revoke)",
    )
    .addHelpText("after", "\nExample:\n  armor logout")
    .action(async (_options: unknown, command: Command) => {
      const ctx = new CommandContext(command, io);
      const path = ctx.settings.configPath;
      const { token, ...rest } = readConfigFile(path);
      if (token !== undefined) writeConfigFile(path, rest);
      ctx.out.result({ config: path, removed: token !== undefined }, () =>
        token === undefined ? `no token stored in ${path}` : `removed the token from ${path}`,
      );
    });

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

function describeWho(who: Whoami): string {
  if (who.kind === "operator") return "the operator (the deployment's operator token)";
  return `${who.account}${who.platform_admin ? " (platform admin)" : ""}`;
}
