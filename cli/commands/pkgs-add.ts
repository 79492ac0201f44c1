import type { Command } from "commander";
import { ComponentSchema } from "../../schema/api.ts";
import { DistSchema } from "../../schema/index-document.ts";
import { addFiles } from "../adding.ts";
import { CommandContext } from "../context.ts";
import { UserError } from "../errors.ts";
import type { Io } from "../output.ts";
import { parseOption } from "./parse.ts";

export function register(pkgs: Command, io: Io): void {
  pkgs
    .command("add")
    .description("upload .deb files and add them to a dist of the repository's open release")
    .requiredOption("--dist <dist>", "the dist (suite) to add to, e.g. stable")
    .option("--component <component>", "the component", "main")
    .option("--concurrency <n>", "upload requests in flight at once (a batch of small files, or one large file)", "4")
    .argument("<files...>", ".deb files")
    .addHelpText(
      "after",
      "\nExample:\n  armor pkgs add --repository acme/tools --dist stable --component main ./dist/*.deb",
    )
    .action(
      async (files: string[], options: { dist: string; component: string; concurrency: string }, command: Command) => {
        const ctx = new CommandContext(command, io);
        const dist = parseOption(DistSchema, options.dist, "--dist");
        const component = parseOption(ComponentSchema, options.component, "--component");
        const concurrency = Number(options.concurrency);
        if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 32) {
          throw new UserError("--concurrency must be a whole number from 1 to 32");
        }
        const repository = ctx.repository;
        const {
          release,
          generation,
          files: uploaded,
          added,
        } = await addFiles(ctx, repository, { dist, component }, files, concurrency);
        ctx.out.result(
          {
            repository,
            dist,
            component,
            release,
            generation,
            files: uploaded,
            added,
          },
          () =>
            added.length === 0
              ? `nothing changed: every package is already in ${dist}/${component}`
              : `added ${added.length} package(s) to ${repository} ${dist}/${component} (release ${release}, generation ${generation}):\n${added
                  .map((p) => `  ${p.name} ${p.version} ${p.architecture}`)
                  .join("\n")}`,
        );
      },
    );
}
