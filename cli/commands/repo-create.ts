import type { Command } from "commander";
import { CreatedRepositorySchema } from "../../schema/responses.ts";
import { CommandContext } from "../context.ts";
import { UserError } from "../errors.ts";
import type { Io } from "../output.ts";

export function register(repo: Command, io: Io): void {
  repo
    .command("create")
    .description("create a repository")
    .argument("<repository>", "owner/name")
    .option("--private", "readers need a token (apt's auth.conf)")
    .option("--hostname <host...>", "serve it at these hostnames too")
    .option("--allow-version-reuse", "allow a (name, version, arch) to change content (not recommended)")
    .option("--retention-days <days>", "how long old releases stay servable", "30")
    .addHelpText("after", "\nExample:\n  armor repo create acme/tools --hostname apt.acme.example")
    .action(
      async (
        id: string,
        options: { private?: boolean; hostname?: string[]; allowVersionReuse?: boolean; retentionDays: string },
        command: Command,
      ) => {
        const ctx = new CommandContext(command, io);
        const retention = Number(options.retentionDays);
        if (!Number.isInteger(retention) || retention < 0)
          throw new UserError("--retention-days must be a whole number of days");
        const created = await ctx.client.json("/admin/v1/repositories", CreatedRepositorySchema, {
          json: {
            id,
            visibility: options.private ? "private" : "public",
            hostnames: options.hostname ?? [],
            may_reuse_versions: options.allowVersionReuse === true,
            retention_days: retention,
          },
        });
        ctx.out.result(created, () => `created ${created.id}, served at ${created.base_url}/`);
      },
    );
}
