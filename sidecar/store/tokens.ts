/** SQL for API tokens. The token text is never stored: only its hash and public prefix. */
import type { Token } from "../../schema/sidecar.ts";
import { type Db, isoTime } from "../db.ts";
import { displayPrefix, generateToken, type NewToken } from "../tokens.ts";

interface TokenRow {
  id: string;
  account: string;
  name: string;
  prefix: string;
  created_at: Date;
  expires_at: Date | null;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

const COLUMNS = `t.id, a.name AS account, t.name, t.prefix, t.created_at, t.expires_at, t.last_used_at, t.revoked_at`;

/** The wire form of a token row (`TokenSchema`): the public prefix, never the secret. */
export function toToken(row: TokenRow): Token {
  return {
    id: row.id,
    account: row.account,
    name: row.name,
    prefix: displayPrefix(row.prefix),
    created_at: isoTime(row.created_at),
    expires_at: isoTime(row.expires_at),
    last_used_at: isoTime(row.last_used_at),
    revoked_at: isoTime(row.revoked_at),
  };
}

/**
 * Store a new token for an account: a random one, or `given` (the bootstrap token). Returns the row
 * and the token text, which the caller shows once.
 */
export async function insertToken(
  tx: Db,
  input: { accountId: string; name: string; expiresInDays: number | null; given?: NewToken },
): Promise<{ row: TokenRow; token: string }> {
  // A prefix collision (40 random bits) is rare; ON CONFLICT keeps the transaction usable to retry.
  for (let attempt = 0; attempt < 5; attempt++) {
    const fresh = input.given ?? generateToken();
    const inserted = await tx.query<{ id: string }>(
      `INSERT INTO api_tokens (account_id, name, prefix, hash, expires_at)
       VALUES ($1, $2, $3, $4, CASE WHEN $5::integer IS NULL THEN NULL ELSE now() + make_interval(days => $5::integer) END)
       ON CONFLICT (prefix) DO NOTHING
       RETURNING id`,
      [input.accountId, input.name, fresh.prefix, fresh.hash, input.expiresInDays],
    );
    const id = inserted[0]?.id;
    if (id === undefined) continue;
    const row = await tokenById(tx, id);
    if (row === null) throw new Error(`token ${id} vanished inside its own transaction`);
    return { row, token: fresh.token };
  }
  throw new Error("could not find a free token prefix in 5 attempts");
}

/** The token with this id (with its account), or null. */
export async function tokenById(db: Db, id: string): Promise<(TokenRow & { account_id: string }) | null> {
  const rows = await db.query<TokenRow & { account_id: string }>(
    `SELECT ${COLUMNS}, t.account_id FROM api_tokens t JOIN accounts a ON a.id = t.account_id WHERE t.id = $1`,
    [id],
  );
  return rows[0] ?? null;
}

/** An account's tokens, revoked and expired ones included, oldest first. */
export async function listTokens(db: Db, accountId: string): Promise<TokenRow[]> {
  return db.query<TokenRow>(
    `SELECT ${COLUMNS} FROM api_tokens t JOIN accounts a ON a.id = t.account_id
     WHERE t.account_id = $1 ORDER BY t.created_at, t.id`,
    [accountId],
  );
}

/** Revoke a token (once: a revoked token keeps its first revocation time). */
export async function revokeToken(tx: Db, id: string): Promise<void> {
  await tx.query("UPDATE api_tokens SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL", [id]);
}

/** What authentication needs to know of the token with this prefix; the database clock decides expiry. */
export interface TokenCredential {
  token_id: string;
  hash: string;
  revoked: boolean;
  expired: boolean;
  account_id: string;
  account: string;
  platform_admin: boolean;
}

/** The credential whose public prefix this is, or null. */
export async function credentialByPrefix(db: Db, prefix: string): Promise<TokenCredential | null> {
  const rows = await db.query<TokenCredential>(
    `SELECT t.id AS token_id, t.hash, t.revoked_at IS NOT NULL AS revoked,
            (t.expires_at IS NOT NULL AND t.expires_at <= now()) AS expired,
            a.id AS account_id, a.name AS account, a.platform_admin
     FROM api_tokens t JOIN accounts a ON a.id = t.account_id
     WHERE t.prefix = $1`,
    [prefix],
  );
  return rows[0] ?? null;
}

/**
 * Record a use. At most one write a minute per token, so a busy token does not turn every
 * authorization into a write; `last_used_at` is for people ("is this token still in use?").
 */
export async function touchToken(db: Db, id: string): Promise<void> {
  await db.query(
    `UPDATE api_tokens SET last_used_at = now()
     WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')`,
    [id],
  );
}
