import type { Command } from "commander";
import { ReleaseIdSchema } from "../../schema/index-document.ts";
import { type ActivatedRelease, ActivatedReleaseSchema } from "../../schema/responses.ts";
import { CommandContext } from "../context.ts";
import type { Io } from "../output.ts";
import { addWaitFlag, awaitEdge, pendingRelease, waitSeconds } from "../publishing.ts";
import { parseOption } from "./parse.ts";

export function register(release: Command, io: Io): void {
  addWaitFlag(
    release
      .command("activate")
      .description(
        "serve a release: an open one whose changed dists are signed, or an older one (rollback); also retries a pending activation's pointer at the edge",
      )
      .argument("<release>", "release id"),
  )
    .addHelpText(
      "after",
      "\nExample:\n  armor release activate --repository acme/tools r2   # apt clients that saw a newer release keep it: see armor release rollback",
    )
    .action(async (id: string, options: { wait: string }, command: Command) => {
      const ctx = new CommandContext(command, io);
      const rid = parseOption(ReleaseIdSchema, id, "release");
      const wait = waitSeconds(options.wait);
      const repository = ctx.repository;
      let done: ActivatedRelease;
      try {
        done = await ctx.client.json(ctx.client.repo(repository, `/releases/${rid}/activate`), ActivatedReleaseSchema, {
          method: "POST",
        });
      } catch (error) {
        const pending = pendingRelease(error);
        if (pending === null) throw error;
        const served = await awaitEdge(ctx, repository, pending, wait);
        done = { release: pending, previous: served?.previous ?? null, activated_at: served?.requested_at ?? "" };
      }
      await awaitEdge(ctx, repository, done.release, wait);
      ctx.out.result(done, () => `release ${done.release} is active${done.previous ? ` (was ${done.previous})` : ""}`);
    });
}
