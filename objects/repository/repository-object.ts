import { DurableObject } from "cloudflare:workers";

/**
 * One Durable Object per repository (SQLite storage; `idFromName(repositoryId)`), the single
 * writer for its releases, packages and indexes. Its RPC surface is built by the repository issue;
 * the class is declared now because wrangler.toml binds it as `REPOSITORY`.
 */
export class RepositoryObject extends DurableObject<Env> {}
