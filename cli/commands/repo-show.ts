import type { Command } from "commander";
import { RepositoryInfoSchema } from "../../schema/responses.ts";
import { CommandContext, parseRepositoryRef } from "../context.ts";
import type { Io } from "../output.ts";

export function register(repo: Command, io: Io): void {
  repo
    .command("show")
    .description("show a repository")
    .argument("[repository]", "owner/name or a hostname it is served at (default: --repository)")
    .addHelpText("after", "\nExamples:\n  armor repo show acme/tools\n  armor repo show apt.tools.acme.example")
    .action(async (id: string | undefined, _options: unknown, command: Command) => {
      const ctx = new CommandContext(command, io);
      const ref = id === undefined ? ctx.repository : parseRepositoryRef(id, "repository");
      const info = await ctx.client.json(ctx.client.repo(ref), RepositoryInfoSchema);
      ctx.out.result(info, () =>
        [
          `repository  ${info.id}`,
          `url         ${info.base_url}/`,
          `visibility  ${info.visibility}`,
          `active      ${info.active_release ?? "nothing published yet"}`,
          `hostnames   ${info.hostnames.join(" ") || "-"}`,
        ].join("\n"),
      );
    });
}
