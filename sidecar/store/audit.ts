/**
 * SQL for the audit log: appended to in the transaction of every change, never updated or deleted
 * (no code path does, and triggers refuse it: schema/postgres/0001_accounts.sql).
 */
import { type Db, isoTime } from "../db.ts";

export type AuditAction =
  | "account.create"
  | "token.create"
  | "token.revoke"
  | "repository.create"
  | "repository.delete"
  | "grant.set"
  | "grant.delete";

export interface AuditEntry {
  id: string;
  at: string;
  actor: string;
  action: AuditAction;
  repository: string | null;
  subject: string;
  details: Record<string, unknown>;
}

interface AuditRow {
  id: string;
  at: Date;
  actor: string;
  action: AuditAction;
  repository: string | null;
  subject: string;
  details: Record<string, unknown>;
}

export interface NewAuditEntry {
  actor: string;
  action: AuditAction;
  repository?: string | null;
  subject: string;
  details?: Record<string, unknown>;
}

/** Append one entry; call it inside the transaction of the change it records. */
export async function appendAudit(tx: Db, entry: NewAuditEntry): Promise<void> {
  await tx.query(
    "INSERT INTO audit_log (actor, action, repository, subject, details) VALUES ($1, $2, $3, $4, $5::jsonb)",
    [entry.actor, entry.action, entry.repository ?? null, entry.subject, JSON.stringify(entry.details ?? {})],
  );
}

/** The newest entries first, optionally only those about one repository. */
export async function listAudit(db: Db, options: { repository: string | null; limit: number }): Promise<AuditEntry[]> {
  const rows = await db.query<AuditRow>(
    `SELECT id::text AS id, at, actor, action, repository, subject, details
     FROM audit_log
     WHERE $1::text IS NULL OR repository = $1
     ORDER BY audit_log.id DESC
     LIMIT $2`,
    [options.repository, options.limit],
  );
  return rows.map((row) => ({ ...row, at: isoTime(row.at) }));
}
