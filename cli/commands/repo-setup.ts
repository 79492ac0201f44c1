import type { Command } from "commander";
import { aptSetup } from "../../deb/apt-setup.ts";
import { RepositoryInfoSchema } from "../../schema/responses.ts";
import { CommandContext } from "../context.ts";
import type { Io } from "../output.ts";

export function register(repo: Command, io: Io): void {
  repo
    .command("setup")
    .description("print what a user of the repository needs: the key download and the deb822 .sources file")
    .option("--dist <dist>", "the suite users should follow", "stable")
    .option("--component <component...>", "components", ["main"])
    .addHelpText("after", "\nExample:\n  armor repo setup --repository acme/tools --dist stable > setup.sh")
    .action(async (options: { dist: string; component: string[] }, command: Command) => {
      const ctx = new CommandContext(command, io);
      const info = await ctx.client.json(ctx.client.repo(ctx.repository), RepositoryInfoSchema);
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
