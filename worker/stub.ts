/**
 * The RPC stub of a repository's Durable Object: one object per lifetime of a repository, named by
 * its scope (r2/blobs.ts `repositoryScope`: id and creation id), so a repository
 * created again under a deleted one's id gets a fresh object, never its predecessor's.
 */
export function repositoryStub(env: Env, scope: string) {
  return env.REPOSITORY.get(env.REPOSITORY.idFromName(scope));
}
