/**
 * Serve a repository's web pages (route.ts says which requests are pages). Each page is authorized
 * as apt's reads are (worker/access.ts: a private repository answers 401 with the Basic challenge
 * a browser turns into a sign-in prompt), read from the edge cache where it can be (data.ts), and
 * rendered on the server: no script is sent, and the Content-Security-Policy allows none.
 */
import type { Context } from "hono";
import { aptSetup } from "../../deb/apt-setup.ts";
import { apiError } from "../../schema/errors.ts";
import { authorize } from "../access.ts";
import { ApiFailure, statusOf } from "../errors.ts";
import type { RepositoryRow } from "../repositories.ts";
import { releaseAtSnapshot } from "../routes/apt.ts";
import { PageData } from "./data.ts";
import { ErrorPage } from "./error-page.tsx";
import { HistoryPage } from "./history-page.tsx";
import { renderDocument, type Site } from "./layout.tsx";
import { PackagePage } from "./package-page.tsx";
import { RepositoryPage } from "./repository-page.tsx";
import type { PageRoute } from "./route.ts";
import { styleHash } from "./styles.ts";

export { pageRoute } from "./route.ts";

type Ctx = Context<{ Bindings: Env }>;

/** How long a browser may reuse a page without asking again; the edge cache does the rest. */
const BROWSER_SECONDS = 60;
const NAME_QUERY = /^[a-z0-9+.-]*$/;
const MAX_QUERY = 100;

export async function servePage(c: Ctx, repo: RepositoryRow, route: PageRoute): Promise<Response> {
  const site: Site = { id: repo.id, visibility: repo.visibility, root: route.root, base: route.root, snapshot: null };
  try {
    await authorize(c, repo, "read");
    if (route.redirect !== null) {
      return new Response(null, { status: 301, headers: { location: route.redirect, vary: "Accept, Authorization" } });
    }
    const data = new PageData(c, repo);
    let release = repo.activeRelease;
    if (route.snapshot !== null) {
      ({ release } = await releaseAtSnapshot(c, repo, route.snapshot));
      site.snapshot = { id: route.snapshot, release };
      site.base = `${route.root}/${route.snapshot}`;
    }
    switch (route.view.kind) {
      case "repository":
        return respond(c, await repositoryPage(c, site, data, release), 200, repo, data.cached);
      case "package": {
        const name = route.view.name;
        const found = release === null ? ({ found: false } as const) : await data.package(release, name);
        if (!found.found) {
          throw new ApiFailure(apiError("package_not_found", `no package ${name} in ${repo.id}`));
        }
        const page = <PackagePage site={site} name={name} members={found.members} linkable={found.linkable} />;
        return respond(c, await renderDocument(page), 200, repo, data.cached);
      }
      case "history": {
        const [history, meta] = await Promise.all([data.history(), data.meta()]);
        const page = (
          <HistoryPage
            site={site}
            history={history}
            retentionDays={meta.retentionDays}
            url={`${meta.baseUrl}/`}
            now={Date.now()}
          />
        );
        return respond(c, await renderDocument(page), 200, repo, data.cached);
      }
      case "missing":
        throw new ApiFailure(apiError("not_found", `no page ${new URL(c.req.url).pathname}`));
    }
  } catch (e) {
    if (!(e instanceof ApiFailure)) throw e;
    const status = statusOf(e.error.code);
    const html = await renderDocument(<ErrorPage site={site} status={status} error={e.error} />);
    return respond(c, html, status, repo, false, e.headers);
  }
}

async function repositoryPage(c: Ctx, site: Site, data: PageData, release: string | null): Promise<string> {
  const rawQuery = (c.req.query("q") ?? "").trim();
  const query = rawQuery.toLowerCase();
  const queryProblem =
    query.length > MAX_QUERY
      ? `A package name is at most ${MAX_QUERY} characters here.`
      : NAME_QUERY.test(query)
        ? null
        : "Package names hold only lowercase letters, digits and + - . (Debian Policy §5.6.1): no name contains that.";
  const rawAfter = c.req.query("after") ?? "";
  const after = NAME_QUERY.test(rawAfter) && rawAfter.length <= MAX_QUERY ? rawAfter : "";
  const [meta, shown, listing] = await Promise.all([
    data.meta(),
    release === null ? null : data.release(release),
    release === null || queryProblem !== null ? null : data.listing(release, query, after),
  ]);
  const dists = shown?.dists ?? [];
  const asked = c.req.query("dist");
  const chosen = dists.find((d) => d.dist === asked) ?? dists.find((d) => d.dist === "stable") ?? dists[0] ?? null;
  const setup = aptSetup({
    id: site.id,
    url: `${meta.baseUrl}/`,
    dist: chosen?.dist ?? "stable",
    components: chosen?.components.map((x) => x.component) ?? ["main"],
    private: site.visibility === "private",
    ...(site.snapshot === null ? {} : { snapshot: site.snapshot.id }),
  });
  return renderDocument(
    <RepositoryPage
      site={site}
      meta={meta}
      release={shown}
      listing={listing}
      query={queryProblem === null ? query : rawQuery}
      queryProblem={queryProblem}
      after={after}
      dist={chosen?.dist ?? "stable"}
      setup={setup}
    />,
  );
}

/**
 * The page with its headers: HTML, revalidated by its SHA-256 (ETag, 304), `Vary` on what chose
 * it (Accept at the root, Authorization everywhere: DESIGN.md §5), no script allowed, and
 * `x-armor-cache: hit` when everything on it came from the edge cache.
 */
async function respond(
  c: Ctx,
  html: string,
  status: number,
  repo: RepositoryRow,
  cached: boolean,
  extra: Record<string, string> = {},
): Promise<Response> {
  const body = new TextEncoder().encode(html);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", body));
  const etag = `"${[...digest].map((b) => b.toString(16).padStart(2, "0")).join("")}"`;
  const headers = new Headers({
    "content-type": "text/html; charset=utf-8",
    "cache-control":
      status !== 200
        ? "no-store"
        : `${repo.visibility === "private" ? "private" : "public"}, max-age=${BROWSER_SECONDS}`,
    vary: "Accept, Authorization",
    etag,
    "content-security-policy": `default-src 'none'; style-src ${await styleHash()}; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'`,
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-armor-cache": cached ? "hit" : "miss",
    ...extra,
  });
  const match = c.req.header("if-none-match");
  if (status === 200 && match !== undefined && match.split(",").some((t) => t.trim().replace(/^W\//, "") === etag)) {
    headers.delete("content-type");
    return new Response(null, { status: 304, headers });
  }
  headers.set("content-length", String(body.length));
  return new Response(c.req.method === "HEAD" ? null : body, { status, headers });
}
