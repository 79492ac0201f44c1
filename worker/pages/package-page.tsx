/**
 * A package's page: every version each dist lists, per architecture its file (size, SHA-256, the
 * download), the command that installs exactly that version, and its control fields, with the
 * packages its relationship fields name linked when this repository has them. Control fields are
 * written by whoever built the package: they are shown as text, never as markup (JSX escapes
 * them), and a Homepage becomes a link only when it is an http(s) URL.
 */
import type { FC } from "hono/jsx";
import type { ControlField } from "../../deb/control.ts";
import { parseDescription } from "../../deb/description.ts";
import { parseRelations, RELATION_FIELDS } from "../../deb/relations.ts";
import type { PackageMember } from "../../objects/repository/browse.ts";
import { bytes } from "./format.ts";
import { Layout, packageHref, type Site } from "./layout.tsx";

export interface PackagePageProps {
  site: Site;
  name: string;
  members: PackageMember[];
  /** Names the relationship fields mention that this repository lists: those become links. */
  linkable: string[];
}

const RELATIONS = new Set<string>(RELATION_FIELDS.map((f) => f.toLowerCase()));

export const PackagePage: FC<PackagePageProps> = ({ site, name, members, linkable }) => {
  // Versions newest first (members come sorted so), each with its files: one per content.
  const versions = new Map<string, Map<string, PackageMember[]>>();
  for (const m of members) {
    const files = versions.get(m.version) ?? new Map<string, PackageMember[]>();
    files.set(m.sha256, [...(files.get(m.sha256) ?? []), m]);
    versions.set(m.version, files);
  }
  const newest = members[0];
  const synopsis = parseDescription(field(newest?.fields ?? [], "Description") ?? "").synopsis;
  const links = new Set(linkable);
  return (
    <Layout
      site={site}
      title={`${name}: ${site.id}`}
      description={synopsis === "" ? `The package ${name} in ${site.id}.` : `${name}: ${synopsis}`}
      current={null}
    >
      <nav aria-label="Breadcrumb">
        <ul>
          <li>
            <a href={`${site.base}/#packages`}>{site.id} packages</a>
          </li>
        </ul>
      </nav>
      <h1>{name}</h1>
      {synopsis === "" ? null : <p class="lede">{synopsis}</p>}
      {newest === undefined ? null : (
        <section aria-labelledby="install">
          <h2 id="install">Install</h2>
          <p>
            The newest version, {newest.version}, once the repository is set up (<a href={`${site.base}/#setup`}>how</a>
            ):
          </p>
          <pre tabindex={0}>
            <code>{`sudo apt-get install ${name}=${newest.version}`}</code>
          </pre>
        </section>
      )}
      <section aria-labelledby="versions">
        <h2 id="versions">{versions.size === 1 ? "Version" : `${versions.size} versions`}</h2>
        {[...versions].map(([version, files]) => (
          <section aria-labelledby={`v-${slug(version)}`}>
            <h3 id={`v-${slug(version)}`}>
              {name} {version}
            </h3>
            <pre tabindex={0}>
              <code>{`sudo apt-get install ${name}=${version}`}</code>
            </pre>
            {[...files.values()].map((listed) => (
              <FileCard site={site} listed={listed} links={links} />
            ))}
          </section>
        ))}
      </section>
    </Layout>
  );
};

/** One `.deb`: where it is listed, its file, and its control fields. */
const FileCard: FC<{ site: Site; listed: PackageMember[]; links: Set<string> }> = ({ site, listed, links }) => {
  const [m] = listed;
  if (m === undefined) return null;
  const id = `f-${m.sha256.slice(0, 16)}`;
  return (
    <article class="card" aria-labelledby={id}>
      <h4 id={id}>{m.architecture === "all" ? "All architectures" : m.architecture}</h4>
      <dl class="facts">
        <dt>Listed in</dt>
        <dd>{listed.map((l) => `${l.dist} (${l.component})`).join(", ")}</dd>
        <dt>Size</dt>
        <dd>
          {bytes(m.size)} ({m.size.toLocaleString("en-US")} bytes)
        </dd>
        <dt>SHA-256</dt>
        <dd>
          <code class="hash">{m.sha256}</code>
        </dd>
        <dt>Download</dt>
        <dd>
          <a href={`${site.base}/${m.filename}`} download>
            {m.filename.split("/").at(-1)}
          </a>
        </dd>
      </dl>
      <details>
        <summary>Control fields</summary>
        <dl class="facts">
          {m.fields.map((f) => (
            <>
              <dt>{f.name}</dt>
              <dd>
                <FieldValue site={site} field={f} links={links} />
              </dd>
            </>
          ))}
        </dl>
      </details>
    </article>
  );
};

const FieldValue: FC<{ site: Site; field: ControlField; links: Set<string> }> = ({ site, field: f, links }) => {
  const key = f.name.toLowerCase();
  if (key === "description") {
    const d = parseDescription(f.value);
    return (
      <div class="description">
        <p>
          <strong>{d.synopsis}</strong>
        </p>
        {d.blocks.map((b) =>
          b.kind === "paragraph" ? (
            <p>{b.text}</p>
          ) : (
            <pre class="wrap">
              <code>{b.lines.join("\n")}</code>
            </pre>
          ),
        )}
      </div>
    );
  }
  if (RELATIONS.has(key)) {
    const groups = parseRelations(f.value);
    return (
      <>
        {groups.map((group, i) => (
          <>
            {i > 0 ? ", " : ""}
            {group.map((a, j) => (
              <>
                {j > 0 ? " | " : ""}
                {a.name !== null && links.has(a.name) ? <a href={packageHref(site, a.name)}>{a.name}</a> : a.name}
                {a.rest}
              </>
            ))}
          </>
        ))}
      </>
    );
  }
  if (key === "homepage" && isWebUrl(f.value)) {
    return (
      <a href={f.value} rel="nofollow noopener noreferrer ugc">
        {f.value}
      </a>
    );
  }
  return f.value.includes("\n") ? (
    <pre class="wrap">
      <code>{f.value}</code>
    </pre>
  ) : (
    // biome-ignore lint/complexity/noUselessFragments: the fragment makes JSX escape the text; a component returning a bare string would not be escaped
    <>{f.value}</>
  );
};

function field(fields: readonly ControlField[], name: string): string | undefined {
  const key = name.toLowerCase();
  return fields.find((f) => f.name.toLowerCase() === key)?.value;
}

function isWebUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === "https:" || url.protocol === "http:") && !/\s/.test(text);
  } catch {
    return false;
  }
}

/** A version as an element id: `+`, `:` and `~` (Policy §5.6.12) spelled as `_` and their code, never colliding. */
function slug(version: string): string {
  return version.replace(/[^A-Za-z0-9.-]/g, (ch) => `_${ch.charCodeAt(0).toString(16)}`);
}
