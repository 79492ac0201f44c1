import type { Command } from "commander";
import { RepositoryListSchema } from "../../schema/responses.ts";
import { CommandContext } from "../context.ts";
import type { Io } from "../output.ts";
import { table } from "../output.ts";

export function register(repo: Command, io: Io): void {
  repo
    .command("list")
    .description("list repositories (admin)")
    .addHelpText("after", "\nExample:\n  armor repo list --json")
    .action(async (_options: unknown, command: Command) => {
      const ctx = new CommandContext(command, io);
      const listed = await ctx.client.json("/admin/v1/repositories", RepositoryListSchema);
      ctx.out.result(listed, () =>
        table(
          ["REPOSITORY", "VISIBILITY", "ACTIVE", "HOSTNAMES"],
          listed.repositories.map((r) => [r.id, r.visibility, r.active_release ?? "-", r.hostnames.join(" ") || "-"]),
        ),
      );
    });
}
