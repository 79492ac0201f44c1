import type { Command } from "commander";
import { DeletedRepositorySchema } from "../../schema/responses.ts";
import { CommandContext, parseRepositoryRef } from "../context.ts";
import { UserError } from "../errors.ts";
import type { Io } from "../output.ts";

export function register(repo: Command, io: Io): void {
  repo
    .command("delete")
    .description("delete a repository, its releases and its files (admin; cannot be undone)")
    .argument("<repository>", "owner/name or a hostname it is served at")
    .option("--yes", "confirm")
    .addHelpText("after", "\nExample:\n  armor repo delete acme/old-tools --yes")
    .action(async (ref: string, options: { yes?: boolean }, command: Command) => {
      const ctx = new CommandContext(command, io);
      const id = parseRepositoryRef(ref, "repository");
      if (!options.yes)
        throw new UserError(`deleting ${id} removes every release and file`, { hint: "add --yes to confirm" });
      const done = await ctx.client.json(`/admin/v1/repositories/${id}`, DeletedRepositorySchema, {
        method: "DELETE",
      });
      ctx.out.result(done, () => `deleted ${done.deleted} (${done.blobs_deleted} files)`);
    });
}
