import type { Command } from "commander";
import { DistSchema, SignedIndexDocumentSchema } from "../../schema/index-document.ts";
import { type Submitted, SubmittedSchema } from "../../schema/responses.ts";
import { CommandContext } from "../context.ts";
import { readDocumentWithText } from "../documents.ts";
import type { Io } from "../output.ts";
import { addWaitFlag, awaitEdge, pendingRelease, waitSeconds } from "../publishing.ts";
import { parseOption } from "./parse.ts";

export function describeSubmitted(s: Submitted): string {
  if (s.activated) return `published ${s.dist}: release ${s.release} is active (signed by ${s.fingerprint})`;
  if (s.unsigned_dists.length > 0) {
    return `signed ${s.dist} of release ${s.release}; it activates once these dists are signed too: ${s.unsigned_dists.join(", ")}`;
  }
  return `signed ${s.dist} of release ${s.release}; staged (activate it with armor release activate ${s.release})`;
}

export function register(index: Command, io: Io): void {
  addWaitFlag(
    index
      .command("upload")
      .description(
        "upload a signed document; the release activates once every changed dist is signed, done when the edge serves it",
      )
      .requiredOption("--dist <dist>", "the dist (suite)")
      .option("--no-activate", "store the signatures but do not activate")
      .argument("<file>", "the signed document (`-` for stdin)"),
  )
    .addHelpText("after", "\nExample:\n  armor index upload --repository acme/tools --dist stable ./signed.toml")
    .action(async (file: string, options: { dist: string; activate: boolean; wait: string }, command: Command) => {
      const ctx = new CommandContext(command, io);
      const dist = parseOption(DistSchema, options.dist, "--dist");
      const wait = waitSeconds(options.wait);
      const { doc, text } = readDocumentWithText(file, SignedIndexDocumentSchema, "signed");
      const repository = ctx.repository;
      let result: Submitted;
      try {
        result = await ctx.client.json(
          ctx.client.repo(repository, `/dists/${dist}/signed${options.activate ? "" : "?activate=false"}`),
          SubmittedSchema,
          { method: "POST", body: text, headers: { "content-type": "application/toml" } },
        );
      } catch (error) {
        const pending = pendingRelease(error);
        if (pending === null) throw error;
        // Accepted and activated; what is left is the edge, which awaitEdge waits for below.
        result = { release: pending, dist, fingerprint: doc.fingerprint, activated: true, unsigned_dists: [] };
      }
      if (result.activated) await awaitEdge(ctx, repository, result.release, wait);
      ctx.out.result(result, () => describeSubmitted(result));
    });
}
