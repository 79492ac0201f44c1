/**
 * First start: an empty database gets the platform admin account `admin` and one token for it,
 * which the caller prints once. Later starts find an account and do nothing, so the token is never
 * shown again (lose it, and a platform admin must create another).
 */
import type { Db } from "./db.ts";
import { hasAccounts, insertAccount } from "./store/accounts.ts";
import { appendAudit } from "./store/audit.ts";
import { insertToken, toToken } from "./store/tokens.ts";
import { tokenFrom } from "./tokens.ts";

export const BOOTSTRAP_ACCOUNT = "admin";

/** Who the audit log names for the first start. */
const SYSTEM = "(system)";

/** Serializes sidecars starting together on one empty database. */
const BOOTSTRAP_LOCK = 7_264_231_002;

/** The line main.ts prints, and how to find it in the output (`match[1]` is the token). */
export function bootstrapLine(token: string): string {
  return `armor sidecar admin token (account ${BOOTSTRAP_ACCOUNT}; shown only this once, store it now): ${token}`;
}
export const BOOTSTRAP_LINE = /^armor sidecar admin token \(.*\): (armor_\S+)$/m;

/**
 * Create the first account and token when there are no accounts; returns the token to show, or
 * null when the database already had accounts. `given` (ARMOR_BOOTSTRAP_TOKEN) replaces the random
 * token; it must be shaped like a token (config.ts checks).
 */
export async function bootstrap(db: Db, given?: string): Promise<string | null> {
  return db.transaction(async (tx) => {
    await tx.query(`SELECT pg_advisory_xact_lock(${BOOTSTRAP_LOCK})`);
    if (await hasAccounts(tx)) return null;
    const account = await insertAccount(tx, BOOTSTRAP_ACCOUNT, true);
    if (account === null) throw new Error("no accounts, yet the admin account exists");
    await appendAudit(tx, {
      actor: SYSTEM,
      action: "account.create",
      subject: account.name,
      details: { platform_admin: true },
    });
    const fixed = given === undefined ? null : tokenFrom(given);
    if (given !== undefined && fixed === null) throw new Error("ARMOR_BOOTSTRAP_TOKEN is not shaped like a token");
    const { row, token } = await insertToken(tx, {
      accountId: account.id,
      name: "bootstrap",
      expiresInDays: null,
      ...(fixed === null ? {} : { given: fixed }),
    });
    await appendAudit(tx, {
      actor: SYSTEM,
      action: "token.create",
      subject: row.id,
      details: { account: account.name, name: row.name, prefix: toToken(row).prefix, expires_at: null },
    });
    return token;
  });
}
