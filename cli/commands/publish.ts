import type { Command } from "commander";
import { ComponentSchema } from "../../schema/api.ts";
import { DistSchema } from "../../schema/index-document.ts";
import { addFiles } from "../adding.ts";
import { CommandContext } from "../context.ts";
import { UserError } from "../errors.ts";
import type { Io } from "../output.ts";
import { addWaitFlag, awaitEdge, publishDists, waitSeconds } from "../publishing.ts";
import { describeSubmitted } from "./index-upload.ts";
import { parseOption } from "./parse.ts";
import { addSigningFlags, type SigningFlags, signOptions } from "./signing-options.ts";

export function register(program: Command, io: Io): void {
  addWaitFlag(
    addSigningFlags(
      program
        .command("publish")
        .description(
          "generate, sign and upload in one step; regenerates and signs again when another publish got there first; done when the edge serves the new release",
        )
        .requiredOption("--dist <dist...>", "the dist(s) to publish")
        .option("--add <files...>", "upload these .deb files and add them to every --dist first, in this one process")
        .option("--component <component>", "the component --add adds to", "main")
        .option("--concurrency <n>", "with --add: upload requests in flight at once", "4")
        .option("--retries <n>", "attempts when the release changes under us (stale_generation)", "8")
        .option("--no-activate", "store the signatures but do not activate"),
    ),
  )
    .addHelpText(
      "after",
      '\nExample:\n  ARMOR_SIGNING_KEY="$(cat key.asc)" armor publish --repository acme/tools --dist stable --key 0xC409…5C\n  armor publish --repository acme/tools --dist stable --add ./dist/*.deb --key-file key.asc\n\nExits 3 when the release is active in the repository but the edge does not serve it yet after --wait seconds (the repository keeps retrying).',
    )
    .action(
      async (
        flags: SigningFlags & {
          dist: string[];
          retries: string;
          activate: boolean;
          wait: string;
          add?: string[];
          component: string;
          concurrency: string;
        },
        command: Command,
      ) => {
        const ctx = new CommandContext(command, io);
        const dists = flags.dist.map((d) => parseOption(DistSchema, d, "--dist"));
        const retries = Number(flags.retries);
        if (!Number.isInteger(retries) || retries < 1 || retries > 100)
          throw new UserError("--retries must be from 1 to 100");
        const wait = waitSeconds(flags.wait);
        const repository = ctx.repository;
        if (flags.add !== undefined) {
          // The common case in one process: no second start-up, openpgp.js loaded while uploading.
          const component = parseOption(ComponentSchema, flags.component, "--component");
          const concurrency = Number(flags.concurrency);
          if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 32) {
            throw new UserError("--concurrency must be a whole number from 1 to 32");
          }
          for (const dist of dists) await addFiles(ctx, repository, { dist, component }, flags.add, concurrency);
        }
        const outcome = await publishDists(ctx, repository, dists, signOptions(ctx, flags), {
          retries,
          activate: flags.activate,
        });
        if (!outcome.published) {
          // Someone else activated every change: done only if the edge serves that release.
          const served = await awaitEdge(ctx, repository, null, wait);
          if (served === null) {
            // No release at all, open or active: there is nothing it could publish.
            throw new UserError(`nothing to publish: ${repository} has no release yet, and no packages added`, {
              hint: `add packages first: armor pkgs add --repository ${repository} --dist ${dists[0] ?? "stable"} ./*.deb`,
              code: "no_open_release",
            });
          }
          ctx.out.result(
            { repository, ...outcome, active_release: served.release },
            () => `nothing to publish: release ${served.release}, which the edge serves, already holds every change`,
          );
          return;
        }
        const activated = outcome.pending ?? outcome.dists.find((d) => d.activated)?.release ?? null;
        const served = activated === null ? null : await awaitEdge(ctx, repository, activated, wait);
        ctx.out.result(
          { repository, published: true, dists: outcome.dists, active_release: served?.release ?? null },
          () =>
            [
              ...outcome.dists.map(describeSubmitted),
              ...(outcome.pending === null ? [] : [`published: release ${outcome.pending} is active`]),
            ].join("\n"),
        );
      },
    );
}
