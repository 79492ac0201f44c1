/**
 * The repository's page: what it is, the setup a user copies (the same commands as
 * `armor repo setup`, deb/apt-setup.ts), its packages with a search by name (a GET form: no script),
 * its dists, and its signing keys with what apt will think of them.
 */
import type { FC } from "hono/jsx";
import type { AptSetup } from "../../deb/apt-setup.ts";
import type { Listing, ReleaseData, RepositoryMeta } from "./data.ts";
import { day, fingerprint, when } from "./format.ts";
import { Layout, packageHref, type Site } from "./layout.tsx";

export interface RepositoryPageProps {
  site: Site;
  meta: RepositoryMeta;
  /** The release served (or the snapshot's), null before the first activation. */
  release: ReleaseData | null;
  listing: Listing | null;
  /** The search as given (shown back in the form) and, when it cannot match a name, why. */
  query: string;
  queryProblem: string | null;
  after: string;
  /** The dist the setup is shown for, and the setup. */
  dist: string;
  setup: AptSetup;
}

export const RepositoryPage: FC<RepositoryPageProps> = (p) => {
  const { site, release } = p;
  const dists = release?.dists ?? [];
  const files = dists.reduce(
    (n, d) => n + d.components.reduce((m, c) => m + c.architectures.reduce((k, a) => k + a.count, 0), 0),
    0,
  );
  const trusted = p.meta.keys.filter((k) => k.status === "trusted");
  const refused = trusted.filter((k) => k.concerns.some((c) => c.level === "refused")).length;
  const searching = p.query !== "";
  return (
    <Layout
      site={site}
      title={searching ? `“${p.query}” in ${site.id}` : `${site.id}: APT repository`}
      description={`How to install packages from the APT repository ${site.id}, and what it holds.`}
      current="overview"
    >
      <h1>{site.id}</h1>
      <p class="lede">
        An APT repository
        {site.visibility === "private"
          ? " (private: apt, and these pages, need an API token with the viewer role)"
          : ""}
        .{" "}
        {release === null
          ? "Nothing has been published yet."
          : `${dists.length} dist${dists.length === 1 ? "" : "s"} (${dists.map((d) => d.dist).join(", ")}), ${files} package file${files === 1 ? "" : "s"}, signed with ${trusted.length} key${trusted.length === 1 ? "" : "s"}${refused === 0 ? "" : ` (apt refuses ${refused === trusted.length ? (refused === 1 ? "it" : "them all") : `${refused} of them`}: see Signing keys)`}; served from release ${release.id}.`}
      </p>

      {/* biome-ignore lint/a11y/useSemanticElements: role=search on the form is what browsers and screen readers
          have long supported; the <search> element is from 2023. */}
      <form class="search" role="search" method="get" action={`${site.base}/`}>
        <label for="q">Find a package by name</label>
        <input
          id="q"
          name="q"
          type="search"
          value={p.query}
          autocomplete="off"
          autocapitalize="none"
          spellcheck={false}
          aria-describedby={p.queryProblem === null ? undefined : "q-problem"}
        />
        <button type="submit">Search</button>
      </form>

      {/* A search's answer comes first; otherwise what a newcomer needs: setup, keys, dists, then the listing. */}
      {searching ? <PackagesSection {...p} /> : null}
      <SetupSection {...p} />
      <KeysSection {...p} />

      <section aria-labelledby="dists">
        <h2 id="dists">Dists</h2>
        {dists.length === 0 ? (
          <p>No dist has been published yet.</p>
        ) : (
          <section class="table" aria-labelledby="dists" tabindex={0}>
            <table>
              <thead>
                <tr>
                  <th scope="col">Dist</th>
                  <th scope="col">Components</th>
                  <th scope="col">Architectures</th>
                  <th scope="col">Package files</th>
                  <th scope="col">Release date</th>
                  <th scope="col">Setup</th>
                </tr>
              </thead>
              <tbody>
                {dists.map((d) => {
                  const architectures = [
                    ...new Set(d.components.flatMap((c) => c.architectures.map((a) => a.architecture))),
                  ].sort();
                  const count = d.components.reduce((m, c) => m + c.architectures.reduce((k, a) => k + a.count, 0), 0);
                  return (
                    <tr>
                      <th scope="row">{d.dist}</th>
                      <td>{d.components.map((c) => c.component).join(", ")}</td>
                      <td>{architectures.join(", ")}</td>
                      <td class="num">{count}</td>
                      <td>{when(d.generatedAt)}</td>
                      <td>
                        {d.dist === p.dist ? (
                          <span class="muted">shown above</span>
                        ) : (
                          <a href={`${site.base}/?dist=${encodeURIComponent(d.dist)}#setup`}>Set up {d.dist}</a>
                        )}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </section>
        )}
      </section>

      {searching ? null : <PackagesSection {...p} />}
    </Layout>
  );
};

const SetupSection: FC<RepositoryPageProps> = ({ site, setup, dist, release }) => (
  <section aria-labelledby="setup">
    <h2 id="setup">Set up apt{release !== null && release.dists.length > 1 ? ` for ${dist}` : ""}</h2>
    {site.visibility === "private" ? (
      <p>
        This repository is private: first <code>export ARMOR_TOKEN=</code>
        <em>an API token with the viewer role</em> (<code>armor token create --name apt</code>, and an admin's{" "}
        <code>armor access grant --role viewer</code>). The commands read it from there and never show it.
      </p>
    ) : null}
    <h3 id="setup-key">1. Download the signing key</h3>
    <p>
      apt checks every index against this keyring and nothing else (<code>Signed-By</code>
      ).
    </p>
    <Code step="key" lines={setup.keyCommands} />
    <h3 id="setup-sources">
      2. Add the source: <code>{setup.sourcesPath}</code>
    </h3>
    <Code step="sources" lines={setup.sourcesCommands} />
    {setup.authCommands.length > 0 ? (
      <>
        <h3 id="setup-auth">
          3. Give apt the token: <code>{setup.authPath}</code>
        </h3>
        <p>Readable by root only (mode 0600), as apt_auth.conf(5) asks.</p>
        <Code step="auth" lines={setup.authCommands} />
      </>
    ) : null}
    <h3 id="setup-install">{setup.authCommands.length > 0 ? "4" : "3"}. Update and install</h3>
    <Code step="update" lines={setup.updateCommands} />
    <p>
      Then <code>sudo apt-get install</code> <em>package</em>, or a version exactly: <code>sudo apt-get install</code>{" "}
      <em>package</em>
      <code>=</code>
      <em>version</em> (each package's page has the command).
    </p>
    <details>
      <summary>The one-line form, for a sources.list file</summary>
      <p>
        The same source as one line, in <code>{setup.listPath}</code> instead of the <code>.sources</code> file:
      </p>
      <Code step="one-line" lines={setup.oneLineCommands} />
    </details>
    <p class="muted">
      The repository's root is <code>{setup.url}</code>. Keyring files:{" "}
      <a href={`${site.root}/archive-keyring.asc`}>archive-keyring.asc</a> (armored) and{" "}
      <a href={`${site.root}/archive-keyring.gpg`}>archive-keyring.gpg</a> (binary, what <code>Signed-By</code> names).
      To pin apt to this repository as it is at one moment, see its <a href={`${site.root}/-/history`}>history</a>.
    </p>
  </section>
);

/** A command block; `data-step` names the setup step, for people's tools and for the tests. */
const Code: FC<{ step: string; lines: string[] }> = ({ step, lines }) => (
  <pre data-step={step} tabindex={0}>
    <code>{lines.join("\n")}</code>
  </pre>
);

const PackagesSection: FC<RepositoryPageProps> = ({ site, listing, query, queryProblem, after, release }) => {
  const searching = query !== "";
  const packages = listing?.packages ?? [];
  const last = packages.at(-1)?.name;
  const params = (more: Record<string, string>) => {
    const q = new URLSearchParams(searching ? { q: query, ...more } : more).toString();
    return q === "" ? `${site.base}/#packages` : `${site.base}/?${q}#packages`;
  };
  return (
    <section aria-labelledby="packages">
      <h2 id="packages">{searching ? `Packages whose name contains “${query}”` : "Packages"}</h2>
      {queryProblem !== null ? (
        <p id="q-problem" role="status">
          {queryProblem}
        </p>
      ) : release === null ? (
        <p>No package has been published yet.</p>
      ) : packages.length === 0 ? (
        <p role="status">
          {searching
            ? `No package name contains “${query}”${after === "" ? "" : " after that page"}.`
            : "This release lists no packages."}
        </p>
      ) : (
        <>
          {searching ? (
            <p role="status">
              {packages.length}
              {listing?.more ? " or more" : ""} package{packages.length === 1 && !listing?.more ? "" : "s"} found.
            </p>
          ) : null}
          <section class="table" aria-labelledby="packages" tabindex={0}>
            <table>
              <thead>
                <tr>
                  <th scope="col">Package</th>
                  <th scope="col">Newest version</th>
                  <th scope="col">Description</th>
                  <th scope="col">Architectures</th>
                  <th scope="col">Dists</th>
                </tr>
              </thead>
              <tbody>
                {packages.map((pkg) => (
                  <tr>
                    <th scope="row">
                      <a href={packageHref(site, pkg.name)}>{pkg.name}</a>
                    </th>
                    <td>
                      <code>{pkg.version}</code>
                    </td>
                    <td>{pkg.synopsis}</td>
                    <td>{pkg.architectures.join(", ")}</td>
                    <td>{pkg.dists.join(", ")}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </section>
        </>
      )}
      {after !== "" || (listing?.more && last !== undefined) ? (
        <nav class="pager" aria-label="More packages">
          {after !== "" ? <a href={params({})}>First page</a> : null}
          {listing?.more && last !== undefined ? (
            <a href={params({ after: last })} rel="next">
              Next page (after {last})
            </a>
          ) : null}
        </nav>
      ) : null}
    </section>
  );
};

const KeysSection: FC<RepositoryPageProps> = ({ meta }) => (
  <section aria-labelledby="keys">
    <h2 id="keys">Signing keys</h2>
    {meta.keys.length === 0 ? (
      <p>This repository trusts no key yet: nothing it serves can be verified.</p>
    ) : (
      <p>
        apt verifies the repository's Release files against these keys (the keyring above). Compare a fingerprint with
        the one the repository's owner publishes elsewhere before you trust it.
      </p>
    )}
    {meta.keys.map((k) => (
      <article class="card" aria-labelledby={`key-${k.fingerprint}`}>
        <h3 id={`key-${k.fingerprint}`}>{k.user_ids[0] ?? k.fingerprint}</h3>
        <dl class="facts">
          <dt>Fingerprint</dt>
          <dd>
            <code class="hash">{fingerprint(k.fingerprint)}</code>
          </dd>
          <dt>Algorithm</dt>
          <dd>{k.algorithm}</dd>
          <dt>Created</dt>
          <dd>{day(k.created_at)}</dd>
          <dt>Expires</dt>
          <dd>{k.expires_at === null ? "never" : day(k.expires_at)}</dd>
          <dt>Status</dt>
          <dd>
            {k.status === "revoked" ? `revoked${k.revocation_reason ? ` (${k.revocation_reason})` : ""}` : "trusted"}
          </dd>
          {k.user_ids.length > 1 ? (
            <>
              <dt>Other user IDs</dt>
              <dd>{k.user_ids.slice(1).join(", ")}</dd>
            </>
          ) : null}
        </dl>
        {k.concerns.length === 0 ? (
          <p class="ok">No known problem with apt.</p>
        ) : (
          <ul class="concerns">
            {k.concerns.map((c) => (
              <li class={c.level === "refused" ? "note refused" : "note"}>
                <p>
                  <strong>{c.level === "refused" ? "apt refuses this key: " : "Warning: "}</strong>
                  {c.message}
                </p>
              </li>
            ))}
          </ul>
        )}
      </article>
    ))}
  </section>
);
