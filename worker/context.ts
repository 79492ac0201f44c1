/** What the API middleware puts on the context for the routes below `/api/v1/repositories/:owner/:name`. */
import type { RepositoryRow } from "./repositories.ts";

export type ApiEnv = { Bindings: Env; Variables: { repository: RepositoryRow } };
