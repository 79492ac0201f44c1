/**
 * What a user of a repository runs to set apt up for it: the keyring download, the deb822
 * `.sources` file with `Signed-By:` (sources.list(5), "DEB822-STYLE FORMAT"), the one-line form
 * with `[signed-by=…]`, and for a private repository the auth.conf entry (apt_auth.conf(5)).
 * One source for `armor repo setup` and the repository's web page, so the two never disagree.
 */

export interface AptSetupInput {
  /** `owner/name`. */
  id: string;
  /** The repository root apt is pointed at, with its trailing slash. */
  url: string;
  dist: string;
  components: readonly string[];
  private: boolean;
  /**
   * A snapshot ID (YYYYMMDDTHHMMSSZ) to pin the source to: apt 2.7 and later read `Snapshot:`
   * (and `snapshot=` in the one-line form) and fetch the repository as it was then, through the
   * Release file's `Snapshots:` URL template.
   */
  snapshot?: string;
}

export interface AptSetup {
  /** `owner-name`: the stem of every file the setup writes. */
  stem: string;
  url: string;
  keyringUrl: string;
  /** Where the keyring goes: /usr/share/keyrings, where `armor keyring build`'s package installs it too. */
  keyringPath: string;
  sourcesPath: string;
  listPath: string;
  /** Private repositories only: the credentials file apt reads. */
  authPath: string;
  /** The deb822 paragraph, without a final newline. */
  sources: string;
  /** The same source as one sources.list line. */
  oneLine: string;
  /** Shell commands, each step a list of lines: download the keyring … */
  keyCommands: string[];
  /** … write the .sources file (a quoted here-document, so nothing in it is expanded) … */
  sourcesCommands: string[];
  /** … for a private repository, the auth.conf entry (empty otherwise) … */
  authCommands: string[];
  /** … and read the indexes. */
  updateCommands: string[];
  /** The one-line form written to its own .list file instead of the .sources file. */
  oneLineCommands: string[];
}

/**
 * A private repository's token, as the shell expands it from $ARMOR_TOKEN (so the token never
 * appears in what is printed or shown), stopping with what to do when it is unset.
 */
// biome-ignore lint/suspicious/noTemplateCurlyInString: a shell parameter expansion, printed for the user's shell
const TOKEN = '"token:${ARMOR_TOKEN:?set ARMOR_TOKEN to an API token with the viewer role}"';

export function aptSetup(input: AptSetupInput): AptSetup {
  const stem = input.id.replace("/", "-");
  const url = input.url.endsWith("/") ? input.url : `${input.url}/`;
  const keyringUrl = `${url}archive-keyring.gpg`;
  const keyringPath = `/usr/share/keyrings/${stem}-archive-keyring.gpg`;
  const sourcesPath = `/etc/apt/sources.list.d/${stem}.sources`;
  const listPath = `/etc/apt/sources.list.d/${stem}.list`;
  const authPath = `/etc/apt/auth.conf.d/${stem}.conf`;
  const components = input.components.join(" ");
  const sources = [
    "Types: deb",
    `URIs: ${url}`,
    `Suites: ${input.dist}`,
    `Components: ${components}`,
    `Signed-By: ${keyringPath}`,
    ...(input.snapshot === undefined ? [] : [`Snapshot: ${input.snapshot}`]),
  ].join("\n");
  const options = [`signed-by=${keyringPath}`, ...(input.snapshot === undefined ? [] : [`snapshot=${input.snapshot}`])];
  const oneLine = `deb [${options.join(" ")}] ${url} ${input.dist} ${components}`;
  return {
    stem,
    url,
    keyringUrl,
    keyringPath,
    sourcesPath,
    listPath,
    authPath,
    sources,
    oneLine,
    keyCommands: [
      `curl -fsSL ${input.private ? `-u ${TOKEN} ` : ""}${keyringUrl} | sudo tee ${keyringPath} > /dev/null`,
    ],
    sourcesCommands: [`sudo tee ${sourcesPath} > /dev/null <<'EOF'`, sources, "EOF"],
    authCommands: input.private
      ? [
          `sudo install -m 0600 /dev/null ${authPath}`,
          `printf 'machine %s login token password %s\\n' '${url}' "$ARMOR_TOKEN" | sudo tee ${authPath} > /dev/null`,
        ]
      : [],
    updateCommands: ["sudo apt-get update"],
    oneLineCommands: [`echo '${oneLine}' | sudo tee ${listPath} > /dev/null`],
  };
}
