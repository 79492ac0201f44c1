import type { Command } from "commander";
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
