import type { Command } from "commander";
import { DistSchema, SignedIndexDocumentSchema } from "../../schema/index-document.ts";
import { CommandContext } from "../context.ts";
import { readDocumentWithText } from "../documents.ts";
import type { Io } from "../output.ts";
import { parseOption } from "./parse.ts";

export interface Submitted {
  release: string;
  dist: string;
  fingerprint: string;
  activated: boolean;
  unsigned_dists: string[];
}

export function describeSubmitted(s: Submitted): string {
  if (s.activated) return `published ${s.dist}: release ${s.release} is active (signed by ${s.fingerprint})`;
  if (s.unsigned_dists.length > 0) {
    return `signed ${s.dist} of release ${s.release}; it activates once these dists are signed too: ${s.unsigned_dists.join(", ")}`;
  }
  return `signed ${s.dist} of release ${s.release}; staged (activate it with armor release activate ${s.release})`;
}

export function register(index: Command, io: Io): void {
  index
    .command("upload")
    .description("upload a signed document; the release activates once every changed dist is signed")
    .requiredOption("--dist <dist>", "the dist (suite)")
    .option("--no-activate", "store the signatures but do not activate")
    .argument("<file>", "the signed document (`-` for stdin)")
    .addHelpText("after", "\nExample:\n  armor index upload --repository acme/tools --dist stable ./signed.toml")
    .action(async (file: string, options: { dist: string; activate: boolean }, command: Command) => {
      const ctx = new CommandContext(command, io);
      const dist = parseOption(DistSchema, options.dist, "--dist");
      const { text } = readDocumentWithText(file, SignedIndexDocumentSchema, "signed");
      const result = await ctx.client.json<Submitted>(
        ctx.client.repo(ctx.repository, `/dists/${dist}/signed${options.activate ? "" : "?activate=false"}`),
        { method: "POST", body: text, headers: { "content-type": "application/toml" } },
      );
      ctx.out.result(result, () => describeSubmitted(result));
    });
}
