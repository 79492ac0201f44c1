/**
 * The repository a request below `/repositories/:owner/:name` names, loaded once for every handler
 * below it (`c.get("repository")`): a name that is not a repository id is an `invalid_request`,
 * an unknown one a `repository_not_found`, before anything else is looked at.
 */
import type { MiddlewareHandler } from "hono";
import { RepositoryIdSchema } from "../../schema/index-document.ts";
import type { ApiEnv } from "../context.ts";
import { fail, parseWith } from "../errors.ts";
import { type RepositoryRow, repositoryById } from "../repositories.ts";

export const loadRepository: MiddlewareHandler<ApiEnv> = async (c, next) => {
  c.set("repository", await repositoryNamed(c.env.DB, c.req.param("owner"), c.req.param("name")));
  await next();
};

/** The repository `owner/name` (path segments), or the refusal. */
export async function repositoryNamed(
  db: D1Database,
  owner: string | undefined,
  name: string | undefined,
): Promise<RepositoryRow> {
  const id = parseWith(RepositoryIdSchema, `${owner}/${name}`, "repository");
  const repo = await repositoryById(db, id);
  if (repo === null) return fail("repository_not_found", `no repository ${id}`);
  return repo;
}
