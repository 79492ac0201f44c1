/** The RPC stub of a repository's Durable Object: one object per repository, addressed by its id. */
export function repositoryStub(env: Env, repositoryId: string) {
  return env.REPOSITORY.get(env.REPOSITORY.idFromName(repositoryId));
}
