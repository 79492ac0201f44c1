/** The checks management endpoints make, as 403s that name the missing role. */
import { type Caller, roleOn } from "./access.ts";
import type { Db } from "./db.ts";
import { fail } from "./errors.ts";

/** Only a platform admin may `doing` (e.g. "create accounts"). */
export function requirePlatformAdmin(caller: Caller, doing: string): void {
  if (caller.platformAdmin) return;
  fail("forbidden", `only a platform admin may ${doing}; account ${caller.account} is not one`, {
    required_role: "platform_admin",
  });
}

/** A platform admin, or an account (or token) with the admin role on the repository. */
export async function requireRepositoryAdmin(db: Db, caller: Caller, repository: string): Promise<void> {
  const role = await roleOn(db, caller, repository);
  if (role === "admin") return;
  const has = role === null ? "no role" : `the ${role} role`;
  fail("forbidden", `this needs the admin role on ${repository}; ${caller.account} has ${has} there`, {
    required_role: "admin",
    role,
  });
}
