import type { Command } from "commander";
import {
  DistSchema,
  formatIndexDocument,
  parseIndexDocument,
  UnsignedIndexDocumentSchema,
} from "../../schema/index-document.ts";
import { CommandContext } from "../context.ts";
import { ServerError, UserError } from "../errors.ts";
import type { Io } from "../output.ts";
import { checkReleaseText, signRelease } from "../signing.ts";
import type { Generated } from "./index-generate.ts";
import { describeSubmitted, type Submitted } from "./index-upload.ts";
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
      const options = signOptions(ctx, flags);
      const results: Submitted[] = [];
      for (let attempt = 1; ; attempt++) {
        try {
          results.length = 0;
          for (const dist of dists) {
            const generated = await ctx.client.json<Generated>(ctx.client.repo(repository, `/dists/${dist}/generate`), {
              method: "POST",
            });
            const parsed = parseIndexDocument(generated.document, UnsignedIndexDocumentSchema);
            if (!parsed.ok) throw new Error(`the server sent an unreadable document: ${parsed.error.message}`);
            const doc = parsed.value;
            checkReleaseText(doc.release_text);
            ctx.out.debug(
              `signing ${dist} (release ${doc.release}, generation ${doc.generation}):\n${doc.release_text}`,
            );
            const signed = await signRelease(doc.release_text, options);
            const text = formatIndexDocument({
              ...doc,
              inrelease: signed.inrelease,
              release_gpg: signed.releaseGpg,
              fingerprint: signed.fingerprint,
            });
            const query = flags.activate ? "" : "?activate=false";
            results.push(
              await ctx.client.json<Submitted>(ctx.client.repo(repository, `/dists/${dist}/signed${query}`), {
                method: "POST",
                body: text,
                headers: { "content-type": "application/toml" },
              }),
            );
          }
          break;
        } catch (error) {
          if (error instanceof ServerError && error.code === "no_open_release") {
            // Someone else's publish already activated everything we added: nothing is left to do.
            ctx.out.result(
              { repository, published: false, reason: "no_open_release" },
              () => "nothing to publish: the active release already holds every change",
            );
            return;
          }
          // Raced by another publisher: either the release changed (stale_generation) or someone
          // else activated it first (release_immutable). Generate again: that either finds nothing
          // left to publish or the newer open release.
          const raced =
            error instanceof ServerError && (error.code === "stale_generation" || error.code === "release_immutable");
          if (!raced || attempt >= retries) throw error;
          ctx.out.log(
            `the release changed while publishing (another upload or publish); generating again (attempt ${attempt + 1} of ${retries})`,
          );
          await new Promise((resolve) => setTimeout(resolve, Math.random() * 200 * attempt));
        }
      }
      ctx.out.result({ repository, published: true, dists: results }, () => results.map(describeSubmitted).join("\n"));
    });
}
