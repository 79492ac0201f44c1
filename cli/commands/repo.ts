import type { Command } from "commander";
import {
  CreatedRepositorySchema,
  DeletedRepositorySchema,
  RepositoryInfoSchema,
  RepositoryListSchema,
} from "../../schema/responses.ts";
import { CommandContext, parseRepositoryRef } from "../context.ts";
import { UserError } from "../errors.ts";
import type { Io } from "../output.ts";
import { table } from "../output.ts";

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
        const created = await ctx.client.json("/admin/v1/repositories", CreatedRepositorySchema, {
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
      const listed = await ctx.client.json("/admin/v1/repositories", RepositoryListSchema);
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
      const info = await ctx.client.json(ctx.client.repo(ref), RepositoryInfoSchema);
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
      const done = await ctx.client.json(`/admin/v1/repositories/${id}`, DeletedRepositorySchema, {
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
      const info = await ctx.client.json(ctx.client.repo(ctx.repository), RepositoryInfoSchema);
      const name = info.id.replace("/", "-");
      const keyring = `/usr/share/keyrings/${name}-archive-keyring.gpg`;
      const url = `${info.base_url}/`;
      const sources = [
        "Types: deb",
        `URIs: ${url}`,
        `Suites: ${options.dist}`,
        `Components: ${options.component.join(" ")}`,
        `Signed-By: ${keyring}`,
      ].join("\n");
      const isPrivate = info.visibility === "private";
      // A private repository's keyring is behind the same credentials apt uses: the commands read
      // the token from $ARMOR_TOKEN, so they work as printed (and the token is not in the output).
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell parameter expansion, printed for the user's shell
      const token = '"token:${ARMOR_TOKEN:?set ARMOR_TOKEN to an API token with the viewer role}"';
      const authFile = `/etc/apt/auth.conf.d/${name}.conf`;
      const lines = [
        ...(isPrivate
          ? [
              "# A private repository: export ARMOR_TOKEN=<an API token with the viewer role> first",
              "# (armor token create --name apt; armor access grant --role viewer ...).",
              "",
            ]
          : []),
        "# 1. the repository's signing key",
        `curl -fsSL ${isPrivate ? `-u ${token} ` : ""}${url}archive-keyring.gpg | sudo tee ${keyring} > /dev/null`,
        "",
        `# 2. /etc/apt/sources.list.d/${name}.sources`,
        `sudo tee /etc/apt/sources.list.d/${name}.sources > /dev/null <<'EOF'`,
        sources,
        "EOF",
        ...(isPrivate
          ? [
              "",
              `# 3. the credentials apt sends: ${authFile}, mode 0600 (apt_auth.conf(5); with a scheme`,
              "#    and path the entry also matches plain http, as on a local stack)",
              `sudo install -m 0600 /dev/null ${authFile}`,
              `printf 'machine %s login token password %s\\n' '${url}' "$ARMOR_TOKEN" | sudo tee ${authFile} > /dev/null`,
            ]
          : []),
        "",
        "sudo apt-get update",
      ];
      ctx.out.result(
        { repository: info.id, url, keyring_url: `${url}archive-keyring.gpg`, keyring_path: keyring, sources },
        () => lines.join("\n"),
      );
    });
}
