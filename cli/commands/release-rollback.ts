import type { Command } from "commander";
import { ReleaseIdSchema } from "../../schema/index-document.ts";
import { ReleaseDetailSchema, ReleaseSummarySchema } from "../../schema/responses.ts";
import { CommandContext } from "../context.ts";
import type { Io } from "../output.ts";
import { addWaitFlag, awaitEdge, publishDists, waitSeconds } from "../publishing.ts";
import { parseOption } from "./parse.ts";
import { addSigningFlags, type SigningFlags, signOptions } from "./signing-options.ts";

/** `armor release rollback`: the rollback apt clients actually follow. */
export function register(release: Command, io: Io): void {
  addWaitFlag(
    addSigningFlags(
      release
        .command("rollback")
        .description(
          "serve an older release's packages again, newly signed: apt ignores a Release dated before the one it has, so a plain `release activate` only reaches clients that never saw the newer one",
        )
        .argument("<release>", "the release whose contents to restore"),
    ),
  )
    .addHelpText("after", "\nExample:\n  armor release rollback --repository acme/tools r2 --key-file key.asc")
    .action(async (id: string, flags: SigningFlags & { wait: string }, command: Command) => {
      const ctx = new CommandContext(command, io);
      const rid = parseOption(ReleaseIdSchema, id, "release");
      const wait = waitSeconds(flags.wait);
      const repository = ctx.repository;
      const created = await ctx.client.json(ctx.client.repo(repository, "/releases"), ReleaseSummarySchema, {
        json: { from: rid, resign: true },
      });
      const shown = await ctx.client.json(ctx.client.repo(repository, `/releases/${created.id}`), ReleaseDetailSchema);
      const dists = shown.dists.map((d) => d.dist);
      const outcome = await publishDists(ctx, repository, dists, signOptions(ctx, flags), {
        retries: 8,
        activate: true,
      });
      await awaitEdge(ctx, repository, created.id, wait);
      ctx.out.result(
        { repository, release: created.id, from: rid, ...outcome },
        () => `release ${created.id} (the contents of ${rid}, newly signed) is active`,
      );
    });
}
