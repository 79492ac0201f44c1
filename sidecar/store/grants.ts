/** SQL for grants: a role on a repository, held by an account or by one token. */
import type { GrantEntry, Role } from "../../schema/sidecar.ts";
import { type Db, isoTime } from "../db.ts";

/** Whom a grant is for: an account (by row id) or a token (by id). */
export type Grantee = { kind: "account"; accountId: string } | { kind: "token"; tokenId: string };

interface GrantRow {
  repository: string;
  account: string | null;
  token_id: string | null;
  role: Role;
  created_at: Date;
}

function toGrant(row: GrantRow): GrantEntry {
  const who = row.account !== null ? { account: row.account } : { token_id: row.token_id ?? "" };
  return { repository: row.repository, ...who, role: row.role, created_at: isoTime(row.created_at) };
}

const SELECT = `SELECT g.repository, a.name AS account, g.token_id, g.role, g.created_at
  FROM grants g LEFT JOIN accounts a ON a.id = g.account_id`;

/** `account_id = $2` or `token_id = $2`: the column is chosen here, never from input. */
function granteeColumn(grantee: Grantee): { column: "account_id" | "token_id"; id: string } {
  return grantee.kind === "account"
    ? { column: "account_id", id: grantee.accountId }
    : { column: "token_id", id: grantee.tokenId };
}

/** The roles a token holds on a repository: its account's grant and its own. */
export async function rolesOn(db: Db, repository: string, accountId: string, tokenId: string): Promise<Role[]> {
  const rows = await db.query<{ role: Role }>(
    "SELECT role FROM grants WHERE repository = $1 AND (account_id = $2 OR token_id = $3)",
    [repository, accountId, tokenId],
  );
  return rows.map((r) => r.role);
}

/** Every grant a token holds, through its account or its own, by repository. */
export async function grantsHeldBy(
  db: Db,
  accountId: string,
  tokenId: string,
): Promise<{ repository: string; role: Role; via: "account" | "token" }[]> {
  const rows = await db.query<{ repository: string; role: Role; via: "account" | "token" }>(
    `SELECT repository, role, CASE WHEN token_id IS NULL THEN 'account' ELSE 'token' END AS via
     FROM grants WHERE account_id = $1 OR token_id = $2 ORDER BY repository, via`,
    [accountId, tokenId],
  );
  return rows.map((r) => ({ repository: r.repository, role: r.role, via: r.via }));
}

/** Every grant on a repository, oldest first. */
export async function listGrants(db: Db, repository: string): Promise<GrantEntry[]> {
  const rows = await db.query<GrantRow>(`${SELECT} WHERE g.repository = $1 ORDER BY g.created_at, a.name, g.token_id`, [
    repository,
  ]);
  return rows.map(toGrant);
}

/** The grantee's current role on the repository, locking the row for the rest of the transaction. */
export async function currentRole(tx: Db, repository: string, grantee: Grantee): Promise<Role | null> {
  const { column, id } = granteeColumn(grantee);
  const rows = await tx.query<{ role: Role }>(
    `SELECT role FROM grants WHERE repository = $1 AND ${column} = $2 FOR UPDATE`,
    [repository, id],
  );
  return rows[0]?.role ?? null;
}

/** Set the grantee's role on the repository (insert or replace). */
export async function upsertGrant(tx: Db, repository: string, grantee: Grantee, role: Role): Promise<GrantEntry> {
  const { column, id } = granteeColumn(grantee);
  await tx.query(
    `INSERT INTO grants (repository, ${column}, role) VALUES ($1, $2, $3)
     ON CONFLICT (repository, ${column}) WHERE ${column} IS NOT NULL DO UPDATE SET role = EXCLUDED.role`,
    [repository, id, role],
  );
  const rows = await tx.query<GrantRow>(`${SELECT} WHERE g.repository = $1 AND g.${column} = $2`, [repository, id]);
  const row = rows[0];
  if (row === undefined) throw new Error(`the grant on ${repository} vanished inside its own transaction`);
  return toGrant(row);
}

/** Remove the grantee's grant (only if it is `role`, when given); the role removed, or null if none matched. */
export async function deleteGrant(
  tx: Db,
  repository: string,
  grantee: Grantee,
  role: Role | null,
): Promise<Role | null> {
  const { column, id } = granteeColumn(grantee);
  const rows = await tx.query<{ role: Role }>(
    `DELETE FROM grants WHERE repository = $1 AND ${column} = $2 AND ($3::text IS NULL OR role = $3) RETURNING role`,
    [repository, id, role],
  );
  return rows[0]?.role ?? null;
}
