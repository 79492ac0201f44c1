/**
 * History: the activation log (each activation is what apt was served from then on, and a link to
 * the repository as it was: its snapshot URL, and the `Snapshot:` line apt 2.7 and later take) and
 * the releases, as `armor release list` and `GET activations` tell them.
 */
import type { FC } from "hono/jsx";
import type { HistoryData } from "./data.ts";
import { snapshotId, when } from "./format.ts";
import { Layout, type Site } from "./layout.tsx";

export interface HistoryPageProps {
  site: Site;
  history: HistoryData;
  retentionDays: number;
  /** The repository root's URL (what apt is pointed at), with its trailing slash. */
  url: string;
  now: number;
}

/** Rows shown: the log can hold up to 1,000 (the object's list limit); a page of them is plenty. */
const SHOWN = 200;

export const HistoryPage: FC<HistoryPageProps> = ({ site, history, retentionDays, url, now }) => {
  const retainedAfter = now - retentionDays * 86_400_000;
  const releases = new Map(history.releases.map((r) => [r.id, r]));
  /** Whether a release can still be served through a snapshot URL (DESIGN.md §5: within retention). */
  const retained = (id: string) => {
    const r = releases.get(id);
    return (
      r !== undefined && (r.state === "active" || (r.retired_at !== null && Date.parse(r.retired_at) > retainedAfter))
    );
  };
  const newest = history.activations.find((a) => a.visible_at !== null && retained(a.release));
  const example = newest?.visible_at == null ? null : snapshotId(newest.visible_at);
  return (
    <Layout
      site={site}
      title={`History: ${site.id}`}
      description={`Releases and activations of the APT repository ${site.id}, with snapshot URLs.`}
      current="history"
    >
      <h1>History</h1>
      <p class="lede">
        Every activation changed what apt is served. Each one's snapshot URL serves the repository as it was from that
        moment, for as long as its release is kept: while it is active and {retentionDays} day
        {retentionDays === 1 ? "" : "s"} after it is replaced.
      </p>
      {example === null ? null : (
        <section aria-labelledby="pin">
          <h2 id="pin">Pin apt to a moment</h2>
          <p>
            With apt 2.7 or later, add a <code>Snapshot:</code> line to the source's <code>.sources</code> file (or run{" "}
            <code>apt update --snapshot {example}</code> once); apt then fetches the repository as it was at that moment
            through the Release file's <code>Snapshots:</code> URL:
          </p>
          <pre tabindex={0}>
            <code>{`Snapshot: ${example}`}</code>
          </pre>
          <p>
            Any apt reads a snapshot as a repository of its own: point <code>URIs:</code> at{" "}
            <code>{`${url}${example}/`}</code>.
          </p>
        </section>
      )}
      <section aria-labelledby="activations">
        <h2 id="activations">Activations</h2>
        {history.activations.length === 0 ? (
          <p>Nothing has been activated yet.</p>
        ) : (
          <section class="table" aria-labelledby="activations" tabindex={0}>
            <table>
              <thead>
                <tr>
                  <th scope="col">Served from</th>
                  <th scope="col">Release</th>
                  <th scope="col">Replaced</th>
                  <th scope="col">Snapshot</th>
                  <th scope="col">
                    <code>Snapshot:</code> line (apt 2.7+)
                  </th>
                </tr>
              </thead>
              <tbody>
                {history.activations.slice(0, SHOWN).map((a) => {
                  const id = a.visible_at === null ? null : snapshotId(a.visible_at);
                  return (
                    <tr>
                      <td>
                        {a.visible_at === null ? (
                          <span>pending (requested {when(a.requested_at)})</span>
                        ) : (
                          <time datetime={a.visible_at}>{when(a.visible_at)}</time>
                        )}
                      </td>
                      <th scope="row">{a.release}</th>
                      <td>{a.previous ?? "—"}</td>
                      <td>
                        {id === null ? (
                          "—"
                        ) : retained(a.release) ? (
                          <a href={`${site.root}/${id}/`}>{`${id}/`}</a>
                        ) : (
                          <span class="muted">expired (past retention)</span>
                        )}
                      </td>
                      <td>{id === null ? "—" : <code>{`Snapshot: ${id}`}</code>}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </section>
        )}
        {history.activations.length > SHOWN ? (
          <p class="muted">
            The newest {SHOWN} of {history.activations.length} activations are shown; <code>armor release list</code>{" "}
            and <code>GET …/activations</code> have them all.
          </p>
        ) : null}
      </section>
      <section aria-labelledby="releases">
        <h2 id="releases">Releases</h2>
        {history.releases.length === 0 ? (
          <p>No release has been activated yet.</p>
        ) : (
          <section class="table" aria-labelledby="releases" tabindex={0}>
            <table>
              <thead>
                <tr>
                  <th scope="col">Release</th>
                  <th scope="col">State</th>
                  <th scope="col">Made from</th>
                  <th scope="col">Created</th>
                  <th scope="col">Last activated</th>
                  <th scope="col">Replaced</th>
                </tr>
              </thead>
              <tbody>
                {history.releases.slice(0, SHOWN).map((r) => (
                  <tr>
                    <th scope="row">{r.id}</th>
                    <td>{r.state === "active" ? <strong>active (served now)</strong> : r.state}</td>
                    <td>{r.parent ?? "empty"}</td>
                    <td>{when(r.created_at)}</td>
                    <td>{when(r.activated_at)}</td>
                    <td>{when(r.retired_at)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </section>
        )}
      </section>
    </Layout>
  );
};
