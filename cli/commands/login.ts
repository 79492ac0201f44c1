import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { WhoamiSchema } from "../../schema/sidecar.ts";
import { ApiClient } from "../client.ts";
import { readConfigFile, writeConfigFile } from "../config.ts";
import { CommandContext } from "../context.ts";
import { UserError } from "../errors.ts";
import type { Io } from "../output.ts";
import { describeWho } from "./whoami.ts";

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
}
