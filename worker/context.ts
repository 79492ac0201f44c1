/**
 * What the API middleware puts on the context for the routes below it: the repository a path
 * names (middleware/repository.ts) and who the caller is (middleware/requires.ts).
 */
import type { Principal } from "./access.ts";
import type { RepositoryRow } from "./repositories.ts";

export type ApiEnv = { Bindings: Env; Variables: { repository: RepositoryRow; principal: Principal } };
