/**
 * Who a token belongs to, and what it may do (DESIGN.md §6):
 *
 * - A token is valid when its prefix finds a row, the hashes match (constant time), and it is
 *   neither revoked nor expired, checked against the database on every call: the sidecar keeps no
 *   cache, so a revocation holds from the next request (the Worker's short cache aside).
 * - A platform admin may do everything, on every repository and on the platform itself.
 * - Anyone else holds on a repository the higher of their account's grant and the token's own
 *   grant; an action needs at least `REQUIRED_ROLE[action]` (viewer < uploader < admin).
 * - Platform-level actions (repository null) need a platform admin.
 */
import { type Action, type AuthorizeResponse, REQUIRED_ROLE, type Role } from "../schema/sidecar.ts";
import type { Db } from "./db.ts";
import { rolesOn } from "./store/grants.ts";
import { credentialByPrefix, touchToken } from "./store/tokens.ts";
import { DUMMY_HASH, hashesEqual, hashToken, prefixOf } from "./tokens.ts";

/** An authenticated token and its account. */
export interface Caller {
  accountId: string;
  account: string;
  tokenId: string;
  platformAdmin: boolean;
}

export type InvalidTokenReason = "unknown_token" | "revoked" | "expired";

export type Authentication = { ok: true; caller: Caller } | { ok: false; reason: InvalidTokenReason };

/**
 * Check a token. A malformed or unknown token takes the same path as a real one (a lookup, a hash,
 * a constant-time comparison against a dummy), so timing tells nothing beyond whether a public
 * prefix exists.
 */
export async function authenticate(db: Db, token: string): Promise<Authentication> {
  const credential = await credentialByPrefix(db, prefixOf(token) ?? "");
  const matches = hashesEqual(hashToken(token), credential?.hash ?? DUMMY_HASH);
  if (credential === null || !matches) return { ok: false, reason: "unknown_token" };
  if (credential.revoked) return { ok: false, reason: "revoked" };
  if (credential.expired) return { ok: false, reason: "expired" };
  await touchToken(db, credential.token_id);
  return {
    ok: true,
    caller: {
      accountId: credential.account_id,
      account: credential.account,
      tokenId: credential.token_id,
      platformAdmin: credential.platform_admin,
    },
  };
}

const RANK: Record<Role, number> = { viewer: 1, uploader: 2, admin: 3 };

/** The higher of two roles (null: none). */
export function higherRole(a: Role | null, b: Role | null): Role | null {
  if (a === null) return b;
  if (b === null) return a;
  return RANK[a] >= RANK[b] ? a : b;
}

/** True when `role` is at least `required`. */
export function satisfies(role: Role | null, required: Role): boolean {
  return role !== null && RANK[role] >= RANK[required];
}

/** The role the caller holds on a repository: admin for platform admins, else the higher grant. */
export async function roleOn(db: Db, caller: Caller, repository: string): Promise<Role | null> {
  if (caller.platformAdmin) return "admin";
  const roles = await rolesOn(db, repository, caller.accountId, caller.tokenId);
  return roles.reduce<Role | null>(higherRole, null);
}

/** The least role an action needs; a platform-level action (no repository) needs a platform admin. */
export function requiredRole(repository: string | null, action: Action): Role {
  return repository === null ? "admin" : REQUIRED_ROLE[action];
}

/** The answer to `POST /v1/authorize`, from the authentication and the caller's role. */
export function decide(
  auth: Authentication,
  role: Role | null,
  repository: string | null,
  action: Action,
): AuthorizeResponse {
  const required_role = requiredRole(repository, action);
  if (!auth.ok) return { allowed: false, principal: null, role: null, reason: auth.reason, required_role };
  const { caller } = auth;
  const principal = { account: caller.account, token_id: caller.tokenId, platform_admin: caller.platformAdmin };
  if (caller.platformAdmin) return { allowed: true, principal, role: "admin", reason: null, required_role };
  if (repository === null) {
    return { allowed: false, principal, role: null, reason: "insufficient_role", required_role };
  }
  if (role === null) return { allowed: false, principal, role: null, reason: "no_grant", required_role };
  if (!satisfies(role, required_role)) {
    return { allowed: false, principal, role, reason: "insufficient_role", required_role };
  }
  return { allowed: true, principal, role, reason: null, required_role };
}
