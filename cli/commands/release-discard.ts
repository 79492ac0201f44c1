import type { Command } from "commander";
import { ReleaseIdSchema } from "../../schema/index-document.ts";
import { DiscardedReleaseSchema, ReleaseListSchema } from "../../schema/responses.ts";
import { CommandContext } from "../context.ts";
import { UserError } from "../errors.ts";
import type { Io } from "../output.ts";
import { parseOption } from "./parse.ts";

export function register(release: Command, io: Io): void {
  release
    .command("discard")
    .description("drop the open release and every change in it; the active release is untouched")
    .argument("[release]", "the open release's id (default: whichever is open)")
    .addHelpText("after", "\nExample:\n  armor release discard --repository acme/tools")
    .action(async (id: string | undefined, _options: unknown, command: Command) => {
      const ctx = new CommandContext(command, io);
      let rid = id === undefined ? undefined : parseOption(ReleaseIdSchema, id, "release");
      if (rid === undefined) {
        const listed = await ctx.client.json(ctx.client.repo(ctx.repository, "/releases"), ReleaseListSchema);
        rid = listed.releases.find((r) => r.state === "open")?.id;
        if (rid === undefined) throw new UserError("there is no open release to discard", { code: "no_open_release" });
      }
      const done = await ctx.client.json(ctx.client.repo(ctx.repository, `/releases/${rid}`), DiscardedReleaseSchema, {
        method: "DELETE",
      });
      ctx.out.result(
        done,
        () => `discarded release ${done.discarded}${done.parent ? `; ${done.parent} stays as it was` : ""}`,
      );
    });
}
