import type { Command } from "commander";
import { PackageListSchema } from "../../schema/responses.ts";
import { CommandContext } from "../context.ts";
import type { Io } from "../output.ts";
import { formatBytes, table } from "../output.ts";

export function register(pkgs: Command, io: Io): void {
  pkgs
    .command("list")
    .description("list the packages of the open release (else the active one), or of --release")
    .option("--dist <dist>", "only this dist")
    .option("--component <component>", "only this component")
    .option("--architecture <arch>", "only this architecture")
    .option("--name <name>", "only this package name")
    .option("--release <id>", "list this release instead")
    .addHelpText("after", "\nExample:\n  armor pkgs list --repository acme/tools --dist stable --json")
    .action(async (options: Record<string, string | undefined>, command: Command) => {
      const ctx = new CommandContext(command, io);
      const query = new URLSearchParams();
      for (const key of ["dist", "component", "architecture", "name", "release"]) {
        const v = options[key];
        if (v !== undefined) query.set(key, v);
      }
      const q = query.size > 0 ? `?${query}` : "";
      const listed = await ctx.client.json(ctx.client.repo(ctx.repository, `/packages${q}`), PackageListSchema);
      ctx.out.result(listed, () =>
        listed.release === null
          ? "no release yet"
          : `${table(
              ["DIST", "COMPONENT", "PACKAGE", "VERSION", "ARCH", "SIZE"],
              listed.packages.map((p) => [p.dist, p.component, p.name, p.version, p.architecture, formatBytes(p.size)]),
            )}\n(release ${listed.release}${listed.truncated ? "; truncated: narrow the filter" : ""})`,
      );
    });
}
