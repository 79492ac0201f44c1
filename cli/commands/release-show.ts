import type { Command } from "commander";
import { ReleaseIdSchema } from "../../schema/index-document.ts";
import { ReleaseDetailSchema } from "../../schema/responses.ts";
import { CommandContext } from "../context.ts";
import type { Io } from "../output.ts";
import { table } from "../output.ts";
import { parseOption } from "./parse.ts";

export function register(release: Command, io: Io): void {
  release
    .command("show")
    .description("show a release: its dists, signatures and package counts")
    .argument("<release>", "release id, e.g. r3")
    .addHelpText("after", "\nExample:\n  armor release show --repository acme/tools r3")
    .action(async (id: string, _options: unknown, command: Command) => {
      const ctx = new CommandContext(command, io);
      const rid = parseOption(ReleaseIdSchema, id, "release");
      const shown = await ctx.client.json(ctx.client.repo(ctx.repository, `/releases/${rid}`), ReleaseDetailSchema);
      ctx.out.result(shown, () =>
        [
          `release ${shown.id}: ${shown.state}, generation ${shown.generation}, parent ${shown.parent ?? "none"}`,
          table(
            ["DIST", "CHANGED", "SIGNED BY"],
            shown.dists.map((d) => [d.dist, d.changed ? "yes" : "no", d.signed_by ?? "-"]),
          ),
          table(
            ["DIST", "COMPONENT", "ARCH", "PACKAGES"],
            shown.counts.map((c) => [c.dist, c.component, c.architecture, String(c.count)]),
          ),
          shown.unsigned_dists.length > 0 ? `waiting for signatures: ${shown.unsigned_dists.join(", ")}` : "",
        ]
          .filter((x) => x !== "")
          .join("\n\n"),
      );
    });
}
