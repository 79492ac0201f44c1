/** Calling a RepositoryObject stub directly, as the object tests do. */
import type { RepositoryObject } from "../../objects/repository/repository-object.ts";

/** The value of an RPC result, or the failure as an exception (RPC typing loses the union's narrowing). */
export function must<T>(result: { ok: boolean; value?: T }): T {
  if (!result.ok || result.value === undefined) throw new Error(`RPC failed: ${JSON.stringify(result)}`);
  return result.value;
}

/** Remove every version and architecture of a package from `stable` of the open release. */
export async function removeFromStable(stub: DurableObjectStub<RepositoryObject>, name: string): Promise<void> {
  must(
    await stub.removePackages({
      release: null,
      dist: "stable",
      component: null,
      name,
      version: null,
      architecture: null,
    }),
  );
}
