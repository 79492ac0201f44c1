/** SQL for the repositories the account layer knows (the Worker registers and forgets them). */
import { type Db, isoTime } from "../db.ts";

export interface Repository {
  id: string;
  created_at: string;
  /** The account that registered it; null when the Worker's operator did. */
  created_by: string | null;
}

interface RepositoryRow {
  id: string;
  created_at: Date;
  created_by: string | null;
}

/** The wire form of a repository row. */
export function toRepository(row: RepositoryRow): Repository {
  return { id: row.id, created_at: isoTime(row.created_at), created_by: row.created_by };
}

/** The repository, with its creator's account name, or null. */
export async function repositoryById(db: Db, id: string): Promise<RepositoryRow | null> {
  const rows = await db.query<RepositoryRow>(
    `SELECT r.id, r.created_at, a.name AS created_by
     FROM repositories r LEFT JOIN accounts a ON a.id = r.created_by WHERE r.id = $1`,
    [id],
  );
  return rows[0] ?? null;
}

/**
 * True when the repository is known, holding a share lock on it until the transaction ends, so a
 * concurrent delete waits for (and then removes) a grant being added.
 */
export async function lockRepository(tx: Db, id: string): Promise<boolean> {
  return (await tx.query("SELECT 1 FROM repositories WHERE id = $1 FOR SHARE", [id])).length > 0;
}

/** Register a repository; false when it was already known. */
export async function insertRepository(tx: Db, id: string, createdBy: string | null): Promise<boolean> {
  const rows = await tx.query(
    "INSERT INTO repositories (id, created_by) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING RETURNING id",
    [id, createdBy],
  );
  return rows.length > 0;
}

/** Forget a repository and every grant on it; returns how many grants went. */
export async function deleteRepository(tx: Db, id: string): Promise<number> {
  const grants = await tx.query("DELETE FROM grants WHERE repository = $1 RETURNING role", [id]);
  await tx.query("DELETE FROM repositories WHERE id = $1", [id]);
  return grants.length;
}
