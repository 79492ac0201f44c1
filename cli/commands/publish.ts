import type { Command } from "commander";
import { DistSchema } from "../../schema/index-document.ts";
import { CommandContext } from "../context.ts";
import { UserError } from "../errors.ts";
import type { Io } from "../output.ts";
import { publishDists } from "../publishing.ts";
import { describeSubmitted } from "./index-upload.ts";
import { parseOption } from "./parse.ts";
import { addSigningFlags, type SigningFlags, signOptions } from "./signing-options.ts";

export function register(program: Command, io: Io): void {
  addSigningFlags(
    program
      .command("publish")
      .description(
        "generate, sign and upload in one step; regenerates and signs again when another publish got there first",
      )
      .requiredOption("--dist <dist...>", "the dist(s) to publish")
      .option("--retries <n>", "attempts when the release changes under us (stale_generation)", "8")
      .option("--no-activate", "store the signatures but do not activate"),
  )
    .addHelpText(
      "after",
      '\nExample:\n  ARMOR_SIGNING_KEY="$(cat key.asc)" armor publish --repository acme/tools --dist stable --key 0xC409…5C',
    )
    .action(async (flags: SigningFlags & { dist: string[]; retries: string; activate: boolean }, command: Command) => {
      const ctx = new CommandContext(command, io);
      const dists = flags.dist.map((d) => parseOption(DistSchema, d, "--dist"));
      const retries = Number(flags.retries);
      if (!Number.isInteger(retries) || retries < 1 || retries > 100)
        throw new UserError("--retries must be from 1 to 100");
      const repository = ctx.repository;
      const outcome = await publishDists(ctx, repository, dists, signOptions(ctx, flags), {
        retries,
        activate: flags.activate,
      });
      if (!outcome.published) {
        ctx.out.result(
          { repository, ...outcome },
          () => "nothing to publish: the active release already holds every change",
        );
        return;
      }
      ctx.out.result({ repository, ...outcome }, () => outcome.dists.map(describeSubmitted).join("\n"));
    });
}
