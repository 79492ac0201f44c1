/**
 * The `armor` program: `armor <noun> <verb>`. `run` parses, dispatches, and turns every failure
 * into its message and exit code (cli/errors.ts).
 */
import { Command, CommanderError } from "commander";
import * as accessGrant from "./commands/access-grant.ts";
import * as accessList from "./commands/access-list.ts";
import * as accessRevoke from "./commands/access-revoke.ts";
import * as accountCreate from "./commands/account-create.ts";
import * as accountList from "./commands/account-list.ts";
import * as indexGenerate from "./commands/index-generate.ts";
import * as indexSign from "./commands/index-sign.ts";
import * as indexUpload from "./commands/index-upload.ts";
import * as keyAdd from "./commands/key-add.ts";
import * as keyList from "./commands/key-list.ts";
import * as keyRemove from "./commands/key-remove.ts";
import * as keyringBuild from "./commands/keyring-build.ts";
import * as login from "./commands/login.ts";
import * as logout from "./commands/logout.ts";
import * as pkgsAdd from "./commands/pkgs-add.ts";
import * as pkgsList from "./commands/pkgs-list.ts";
import * as pkgsRemove from "./commands/pkgs-remove.ts";
import * as publish from "./commands/publish.ts";
import * as releaseActivate from "./commands/release-activate.ts";
import * as releaseCreate from "./commands/release-create.ts";
import * as releaseDiff from "./commands/release-diff.ts";
import * as releaseDiscard from "./commands/release-discard.ts";
import * as releaseList from "./commands/release-list.ts";
import * as releaseRollback from "./commands/release-rollback.ts";
import * as releaseShow from "./commands/release-show.ts";
import * as repoCreate from "./commands/repo-create.ts";
import * as repoDelete from "./commands/repo-delete.ts";
import * as repoList from "./commands/repo-list.ts";
import * as repoSetup from "./commands/repo-setup.ts";
import * as repoShow from "./commands/repo-show.ts";
import * as tokenCreate from "./commands/token-create.ts";
import * as tokenList from "./commands/token-list.ts";
import * as tokenRevoke from "./commands/token-revoke.ts";
import * as webhookAdd from "./commands/webhook-add.ts";
import * as webhookDeliveries from "./commands/webhook-deliveries.ts";
import * as webhookList from "./commands/webhook-list.ts";
import * as webhookRemove from "./commands/webhook-remove.ts";
import * as webhookTest from "./commands/webhook-test.ts";
import * as whoami from "./commands/whoami.ts";
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

  const release = program.command("release").description("releases: copy-on-write snapshots of the whole repository");
  releaseCreate.register(release, io);
  releaseDiscard.register(release, io);
  releaseList.register(release, io);
  releaseShow.register(release, io);
  releaseDiff.register(release, io);
  releaseActivate.register(release, io);
  releaseRollback.register(release, io);

  const repo = program.command("repo").description("repositories (create, list and delete need an admin token)");
  repoCreate.register(repo, io);
  repoList.register(repo, io);
  repoShow.register(repo, io);
  repoDelete.register(repo, io);
  repoSetup.register(repo, io);

  const key = program.command("key").description("the repository's trusted signing keys (public halves only)");
  keyAdd.register(key, io);
  keyList.register(key, io);
  keyRemove.register(key, io);

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
  logout.register(program, io);
  whoami.register(program, io);

  const token = program.command("token").description("API tokens (needs the accounts sidecar)");
  tokenCreate.register(token, io);
  tokenList.register(token, io);
  tokenRevoke.register(token, io);

  const access = program.command("access").description("who may do what to a repository (needs the accounts sidecar)");
  accessGrant.register(access, io);
  accessRevoke.register(access, io);
  accessList.register(access, io);

  const account = program.command("account").description("accounts (platform admins; needs the accounts sidecar)");
  accountCreate.register(account, io);
  accountList.register(account, io);

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
