/** A refusal or a missing page, as a page: the same status and headers as the API's answer. */
import type { FC } from "hono/jsx";
import type { ApiError } from "../../schema/errors.ts";
import { Layout, type Site } from "./layout.tsx";

export const ErrorPage: FC<{ site: Site; status: number; error: ApiError }> = ({ site, status, error }) => {
  const [title, advice] = explain(site, status, error);
  return (
    <Layout site={site} title={`${title}: ${site.id}`} description={title} current={null}>
      <h1>{title}</h1>
      <p>{advice}</p>
      <p class="muted">
        {status} <code>{error.code}</code>: {error.message}
      </p>
      <p>
        <a href={`${site.root}/`}>Back to {site.id}</a>
      </p>
    </Layout>
  );
};

function explain(site: Site, status: number, error: ApiError): [string, string] {
  switch (error.code) {
    case "unauthorized":
      return [
        "Sign in to see this repository",
        `${site.id} is private. Your browser asks for a user name and password: any user name, and as the password an API token with the viewer role on ${site.id}, the same token apt's auth.conf uses.`,
      ];
    case "forbidden":
      return [
        "This token may not see this repository",
        "The token you signed in with lacks the viewer role here. Ask an admin of the repository for it, or sign in with another token (close the browser to forget this one).",
      ];
    case "package_not_found":
      return ["No such package", "The repository does not list a package of this name. Search for it by name instead."];
    case "snapshot_not_found":
    case "release_expired":
      return [
        "No such snapshot",
        "This moment has no release to show: before the first activation, or past retention.",
      ];
    default:
      return status === 404
        ? ["Not found", "There is no page here."]
        : status >= 500
          ? ["Try again shortly", "The repository could not answer right now."]
          : ["This request cannot be answered", "See the reason below."];
  }
}
