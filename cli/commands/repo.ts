import type { Command } from "commander";
import { aptSetup } from "../../deb/apt-setup.ts";
import { CommandContext, parseRepositoryRef } from "../context.ts";
import { UserError } from "../errors.ts";
import type { Io } from "../output.ts";
import { table } from "../output.ts";

interface RepositoryInfo {
  id: string;
  base_url: string;
  visibility: string;
  active_release: string | null;
  hostnames: string[];
}

export function register(program: Command, io: Io): void {
  const repo = program.command("repo").description("repositories (create, list and delete need an admin token)");

  repo
    .command("create")
    .description("create a repository")
    .argument("<repository>", "owner/name")
    .option("--private", "readers need a token (apt's auth.conf)")
    .option("--hostname <host...>", "serve it at these hostnames too")
    .option("--allow-version-reuse", "allow a (name, version, arch) to change content (not recommended)")
    .option("--retention-days <days>", "how long old releases stay servable", "30")
    .addHelpText("after", "\nExample:\n  armor repo create acme/tools --hostname apt.acme.example")
    .action(
      async (
        id: string,
        options: { private?: boolean; hostname?: string[]; allowVersionReuse?: boolean; retentionDays: string },
        command: Command,
      ) => {
        const ctx = new CommandContext(command, io);
        const retention = Number(options.retentionDays);
        if (!Number.isInteger(retention) || retention < 0)
          throw new UserError("--retention-days must be a whole number of days");
        const created = await ctx.client.json<{ id: string; base_url: string }>("/admin/v1/repositories", {
          json: {
            id,
            visibility: options.private ? "private" : "public",
            hostnames: options.hostname ?? [],
            may_reuse_versions: options.allowVersionReuse === true,
            retention_days: retention,
          },
        });
        ctx.out.result(created, () => `created ${created.id}, served at ${created.base_url}/`);
      },
    );

  repo
    .command("list")
    .description("list repositories (admin)")
    .addHelpText("after", "\nExample:\n  armor repo list --json")
    .action(async (_options: unknown, command: Command) => {
      const ctx = new CommandContext(command, io);
      const listed = await ctx.client.json<{
        repositories: { id: string; visibility: string; active_release: string | null; hostnames: string[] }[];
      }>("/admin/v1/repositories");
      ctx.out.result(listed, () =>
        table(
          ["REPOSITORY", "VISIBILITY", "ACTIVE", "HOSTNAMES"],
          listed.repositories.map((r) => [r.id, r.visibility, r.active_release ?? "-", r.hostnames.join(" ") || "-"]),
        ),
      );
    });

  repo
    .command("show")
    .description("show a repository")
    .argument("[repository]", "owner/name or a hostname it is served at (default: --repository)")
    .addHelpText("after", "\nExamples:\n  armor repo show acme/tools\n  armor repo show apt.tools.acme.example")
    .action(async (id: string | undefined, _options: unknown, command: Command) => {
      const ctx = new CommandContext(command, io);
      const ref = id === undefined ? ctx.repository : parseRepositoryRef(id, "repository");
      const info = await ctx.client.json<RepositoryInfo>(ctx.client.repo(ref));
      ctx.out.result(info, () =>
        [
          `repository  ${info.id}`,
          `url         ${info.base_url}/`,
          `visibility  ${info.visibility}`,
          `active      ${info.active_release ?? "nothing published yet"}`,
          `hostnames   ${info.hostnames.join(" ") || "-"}`,
        ].join("\n"),
      );
    });

  repo
    .command("delete")
    .description("delete a repository, its releases and its files (admin; cannot be undone)")
    .argument("<repository>", "owner/name or a hostname it is served at")
    .option("--yes", "confirm")
    .addHelpText("after", "\nExample:\n  armor repo delete acme/old-tools --yes")
    .action(async (ref: string, options: { yes?: boolean }, command: Command) => {
      const ctx = new CommandContext(command, io);
      const id = parseRepositoryRef(ref, "repository");
      if (!options.yes)
        throw new UserError(`deleting ${id} removes every release and file`, { hint: "add --yes to confirm" });
      const done = await ctx.client.json<{ deleted: string; blobs_deleted: number }>(`/admin/v1/repositories/${id}`, {
        method: "DELETE",
      });
      ctx.out.result(done, () => `deleted ${done.deleted} (${done.blobs_deleted} files)`);
    });

  repo
    .command("setup")
    .description("print what a user of the repository needs: the key download and the deb822 .sources file")
    .option("--dist <dist>", "the suite users should follow", "stable")
    .option("--component <component...>", "components", ["main"])
    .addHelpText("after", "\nExample:\n  armor repo setup --repository acme/tools --dist stable > setup.sh")
    .action(async (options: { dist: string; component: string[] }, command: Command) => {
      const ctx = new CommandContext(command, io);
      const info = await ctx.client.json<RepositoryInfo>(ctx.client.repo(ctx.repository));
      const isPrivate = info.visibility === "private";
      // The same setup the repository's web page shows (deb/apt-setup.ts). A private repository's
      // keyring is behind the same credentials apt uses: the commands read the token from
      // $ARMOR_TOKEN, so they work as printed (and the token is not in the output).
      const setup = aptSetup({
        id: info.id,
        url: `${info.base_url}/`,
        dist: options.dist,
        components: options.component,
        private: isPrivate,
      });
      const lines = [
        ...(isPrivate
          ? [
              "# A private repository: export ARMOR_TOKEN=<an API token with the viewer role> first",
              "# (armor token create --name apt; armor access grant --role viewer ...).",
              "",
            ]
          : []),
        "# 1. the repository's signing key",
        ...setup.keyCommands,
        "",
        `# 2. ${setup.sourcesPath}`,
        ...setup.sourcesCommands,
        ...(isPrivate
          ? [
              "",
              `# 3. the credentials apt sends: ${setup.authPath}, mode 0600 (apt_auth.conf(5); with a scheme`,
              "#    and path the entry also matches plain http, as on a local stack)",
              ...setup.authCommands,
            ]
          : []),
        "",
        ...setup.updateCommands,
      ];
      ctx.out.result(
        {
          repository: info.id,
          url: setup.url,
          keyring_url: setup.keyringUrl,
          keyring_path: setup.keyringPath,
          sources: setup.sources,
        },
        () => lines.join("\n"),
      );
    });
}
