import type { Command } from "commander";
import { RemovedPackagesSchema } from "../../schema/responses.ts";
import { CommandContext } from "../context.ts";
import type { Io } from "../output.ts";

export function register(pkgs: Command, io: Io): void {
  pkgs
    .command("remove")
    .description("remove packages from a dist of the open release (opened from the active one if none)")
    .requiredOption("--dist <dist>", "the dist to remove from")
    .option("--component <component>", "only from this component")
    .option("--architecture <arch>", "only this architecture")
    .argument("<name>", "package name")
    .argument("[version]", "only this version")
    .addHelpText("after", "\nExample:\n  armor pkgs remove --repository acme/tools --dist stable hello 1.0-1")
    .action(
      async (
        name: string,
        version: string | undefined,
        options: { dist: string; component?: string; architecture?: string },
        command: Command,
      ) => {
        const ctx = new CommandContext(command, io);
        const result = await ctx.client.json(
          ctx.client.repo(ctx.repository, "/packages/remove"),
          RemovedPackagesSchema,
          {
            json: {
              dist: options.dist,
              name,
              version: version ?? null,
              component: options.component ?? null,
              architecture: options.architecture ?? null,
            },
          },
        );
        ctx.out.result(result, () =>
          [
            `removed from release ${result.release}:`,
            ...result.removed.map((p) => `  ${p.name} ${p.version} ${p.architecture}`),
          ].join("\n"),
        );
      },
    );
}
