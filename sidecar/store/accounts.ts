/** SQL for accounts. */
import type { Account } from "../../schema/sidecar.ts";
import { type Db, isoTime } from "../db.ts";

interface AccountRow {
  id: string;
  name: string;
  platform_admin: boolean;
  created_at: Date;
}

/** The wire form of an account row. */
export function toAccount(row: AccountRow): Account {
  return { name: row.name, platform_admin: row.platform_admin, created_at: isoTime(row.created_at) };
}

/** The account with this name, or null. */
export async function accountByName(db: Db, name: string): Promise<AccountRow | null> {
  const rows = await db.query<AccountRow>("SELECT id, name, platform_admin, created_at FROM accounts WHERE name = $1", [
    name,
  ]);
  return rows[0] ?? null;
}

/** Create an account; null when the name is taken. */
export async function insertAccount(db: Db, name: string, platformAdmin: boolean): Promise<AccountRow | null> {
  const rows = await db.query<AccountRow>(
    `INSERT INTO accounts (name, platform_admin) VALUES ($1, $2)
     ON CONFLICT (name) DO NOTHING
     RETURNING id, name, platform_admin, created_at`,
    [name, platformAdmin],
  );
  return rows[0] ?? null;
}

/** Every account, by name. */
export async function listAccounts(db: Db): Promise<AccountRow[]> {
  return db.query<AccountRow>("SELECT id, name, platform_admin, created_at FROM accounts ORDER BY name");
}

/** False only on an empty database (the first start). */
export async function hasAccounts(db: Db): Promise<boolean> {
  return (await db.query("SELECT 1 FROM accounts LIMIT 1")).length > 0;
}
