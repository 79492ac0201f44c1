import type { Command } from "commander";
import { readConfigFile, writeConfigFile } from "../config.ts";
import { CommandContext } from "../context.ts";
import type { Io } from "../output.ts";

export function register(program: Command, io: Io): void {
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
}
