import type { Command } from "commander";
import { DistSchema } from "../../schema/index-document.ts";
import { GeneratedSchema } from "../../schema/responses.ts";
import { CommandContext } from "../context.ts";
import type { Io } from "../output.ts";
import { parseOption } from "./parse.ts";

export function register(index: Command, io: Io): void {
  index
    .command("generate")
    .description("regenerate the dirty indexes of a dist and print the unsigned document to sign")
    .requiredOption("--dist <dist>", "the dist (suite)")
    .addHelpText("after", "\nExample:\n  armor index generate --repository acme/tools --dist stable > unsigned.toml")
    .action(async (options: { dist: string }, command: Command) => {
      const ctx = new CommandContext(command, io);
      const dist = parseOption(DistSchema, options.dist, "--dist");
      const generated = await ctx.client.json(
        ctx.client.repo(ctx.repository, `/dists/${dist}/generate`),
        GeneratedSchema,
        { method: "POST" },
      );
      if (ctx.out.json) ctx.out.result(generated, () => "");
      else {
        ctx.out.document(generated.document);
        ctx.out.log(
          `regenerated: ${generated.regenerated.join(", ") || "none"}; reused: ${generated.reused.join(", ") || "none"}`,
        );
      }
    });
}
