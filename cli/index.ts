/**
 * The `armor` program: `armor <noun> <verb>`. `run` parses, dispatches, and turns every failure
 * into its message and exit code (cli/errors.ts).
 */
import { Command, CommanderError } from "commander";
import * as access from "./commands/access.ts";
import * as account from "./commands/account.ts";
import * as indexGenerate from "./commands/index-generate.ts";
import * as indexSign from "./commands/index-sign.ts";
import * as indexUpload from "./commands/index-upload.ts";
import * as key from "./commands/key.ts";
import * as keyringBuild from "./commands/keyring-build.ts";
import * as login from "./commands/login.ts";
import * as pkgsAdd from "./commands/pkgs-add.ts";
import * as pkgsList from "./commands/pkgs-list.ts";
import * as pkgsRemove from "./commands/pkgs-remove.ts";
import * as publish from "./commands/publish.ts";
import * as release from "./commands/release.ts";
import * as repo from "./commands/repo.ts";
import * as token from "./commands/token.ts";
import * as webhookAdd from "./commands/webhook-add.ts";
import * as webhookDeliveries from "./commands/webhook-deliveries.ts";
import * as webhookList from "./commands/webhook-list.ts";
import * as webhookRemove from "./commands/webhook-remove.ts";
import * as webhookTest from "./commands/webhook-test.ts";
import { EXIT } from "./errors.ts";
import { type Io, Output } from "./output.ts";

export const VERSION = "0.1.0";

export function buildProgram(io: Io): Command {
  const program = new Command("armor")
    .description("Signed APT repositories at the edge: upload .deb files, sign indexes locally, publish.")
    .version(VERSION, "-V, --version")
    .option("--endpoint <url>", "Armor API endpoint (env ARMOR_ENDPOINT)")
    .option("--token <token>", "API token (env ARMOR_TOKEN)")
    .option(
      "--repository <owner/name|hostname>",
      "repository, by owner/name or a hostname it is served at (env ARMOR_REPOSITORY)",
    )
    .option("--config <file>", "config file (default ~/.config/armor/config.toml)")
    .option("--json", "machine-readable output, errors included")
    .option("--verbose", "say more (e.g. print the Release text being signed)")
    .showHelpAfterError("(run with --help for usage)")
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    })
    .exitOverride();

  const pkgs = program.command("pkgs").description("packages: upload, add, list, remove");
  pkgsAdd.register(pkgs, io);
  pkgsList.register(pkgs, io);
  pkgsRemove.register(pkgs, io);

  const index = program.command("index").description("indexes: generate, sign locally, upload");
  indexGenerate.register(index, io);
  indexSign.register(index, io);
  indexUpload.register(index, io);

  publish.register(program, io);
  release.register(program, io);
  repo.register(program, io);
  key.register(program, io);
  keyringBuild.register(program, io);

  const webhook = program
    .command("webhook")
    .description("webhooks: signed HTTP POSTs to your systems when packages, releases or keys change");
  webhookAdd.register(webhook, io);
  webhookList.register(webhook, io);
  webhookRemove.register(webhook, io);
  webhookTest.register(webhook, io);
  webhookDeliveries.register(webhook, io);

  login.register(program, io);
  token.register(program, io);
  access.register(program, io);
  account.register(program, io);

  // Every subcommand's --help lists the global options too: its own examples use --repository and --json.
  for (const command of allCommands(program)) {
    command.exitOverride().configureOutput(program.configureOutput()).configureHelp({ showGlobalOptions: true });
  }
  return program;
}

function* allCommands(command: Command): Generator<Command> {
  for (const sub of command.commands) {
    yield sub;
    yield* allCommands(sub);
  }
}

/** Run the CLI; resolves to the exit code. */
export async function run(argv: string[], io: Io): Promise<number> {
  const program = buildProgram(io);
  const json = argv.includes("--json");
  const out = new Output(io, { json, verbose: argv.includes("--verbose") });
  try {
    await program.parseAsync(argv, { from: "user" });
    return EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end by "throwing" exit code 0; usage errors were already printed.
      if (error.exitCode === 0) return EXIT.ok;
      if (json) io.stdout.write(`${JSON.stringify({ error: { code: "usage", message: error.message } })}\n`);
      return EXIT.usage;
    }
    return out.error(error, { bug: EXIT.bug });
  }
}
