/**
 * The frame of every page: landmarks (banner, navigation, main, contentinfo), a skip link, the
 * viewport and color-scheme declarations, and the one stylesheet. Everything a page shows goes
 * through JSX, which escapes text and attribute values: nothing from a package reaches the page as
 * markup.
 */
import type { Child, FC } from "hono/jsx";
import { CSS } from "./styles.ts";

/** Where a page sits: which repository, viewed how, and the paths its links start from. */
export interface Site {
  /** `owner/name`. */
  id: string;
  visibility: "public" | "private";
  /** The repository root's path without its trailing slash ("" on the repository's own hostname). */
  root: string;
  /** Where this view's links start: the root, or the snapshot's root (`{root}/{snapshot}`). */
  base: string;
  /** The snapshot being viewed, and the release it names; null for the repository as served now. */
  snapshot: { id: string; release: string } | null;
}

export function packageHref(site: Site, name: string): string {
  return `${site.base}/-/packages/${encodeURIComponent(name)}`;
}

export const Layout: FC<{
  site: Site;
  title: string;
  description: string;
  current: "overview" | "history" | null;
  children?: Child;
}> = ({ site, title, description, current, children }) => (
  <html lang="en">
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <meta name="color-scheme" content="light dark" />
      <meta name="description" content={description} />
      <meta name="robots" content={site.visibility === "private" ? "noindex, nofollow" : "index, follow"} />
      <title>{title}</title>
      {/* Constant text, allowed by its hash in the Content-Security-Policy (styles.ts). */}
      <style dangerouslySetInnerHTML={{ __html: CSS }} />
    </head>
    <body>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="site">
        <p class="brand">
          <a href={`${site.root}/`}>{site.id}</a>{" "}
          {site.visibility === "private" ? <span class="badge">private</span> : null}
        </p>
        <nav aria-label="Repository">
          <ul>
            <li>
              <a href={`${site.base}/`} aria-current={current === "overview" ? "page" : undefined}>
                Packages and setup
              </a>
            </li>
            <li>
              <a href={`${site.root}/-/history`} aria-current={current === "history" ? "page" : undefined}>
                History
              </a>
            </li>
            <li>
              <a href={`${site.root}/archive-keyring.asc`}>Signing keys (.asc)</a>
            </li>
          </ul>
        </nav>
      </header>
      <main id="main" tabindex={-1}>
        {site.snapshot === null ? null : (
          <div class="note" role="note">
            <p>
              You are viewing this repository as it was at snapshot <code>{site.snapshot.id}</code> (release{" "}
              {site.snapshot.release}). <a href={`${site.root}/`}>See it as it is now</a>.
            </p>
          </div>
        )}
        {children}
      </main>
      <footer>
        <p>An APT repository served by Armor. These pages are for people; apt reads the same URL.</p>
      </footer>
    </body>
  </html>
);

/** `<!DOCTYPE html>` and the rendered page. */
export async function renderDocument(page: { toString(): string | Promise<string> }): Promise<string> {
  return `<!DOCTYPE html>${await page.toString()}`;
}
