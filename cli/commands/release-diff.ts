import type { Command } from "commander";
import { ReleaseIdSchema } from "../../schema/index-document.ts";
import { type MemberSummary, ReleaseDiffSchema } from "../../schema/responses.ts";
import { CommandContext } from "../context.ts";
import type { Io } from "../output.ts";
import { parseOption } from "./parse.ts";

export function register(release: Command, io: Io): void {
  release
    .command("diff")
    .description("packages added and removed between two releases")
    .argument("<from>", "older release")
    .argument("<to>", "newer release")
    .addHelpText("after", "\nExample:\n  armor release diff --repository acme/tools r2 r3")
    .action(async (from: string, to: string, _options: unknown, command: Command) => {
      const ctx = new CommandContext(command, io);
      const a = parseOption(ReleaseIdSchema, from, "from");
      const b = parseOption(ReleaseIdSchema, to, "to");
      const diff = await ctx.client.json(
        ctx.client.repo(ctx.repository, `/releases/${a}/diff/${b}`),
        ReleaseDiffSchema,
      );
      const line = (sign: string, p: MemberSummary) =>
        `${sign} ${p.dist}/${p.component} ${p.name} ${p.version} ${p.architecture}`;
      ctx.out.result(diff, () =>
        [
          ...diff.added.map((p) => line("+", p)),
          ...diff.removed.map((p) => line("-", p)),
          `${diff.added_count} added, ${diff.removed_count} removed`,
        ].join("\n"),
      );
    });
}
