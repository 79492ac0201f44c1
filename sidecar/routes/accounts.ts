/**
 *   POST /v1/accounts  {name, platform_admin}  create an account (platform admins) → 201 Account
 *   GET  /v1/accounts                          every account (platform admins) → {accounts}
 */
import { Hono } from "hono";
import { CreateAccountSchema } from "../../schema/sidecar.ts";
import type { SidecarEnv } from "../context.ts";
import type { Db } from "../db.ts";
import { fail, jsonBody } from "../errors.ts";
import { requireCaller } from "../middleware/caller.ts";
import { requirePlatformAdmin } from "../permissions.ts";
import { insertAccount, listAccounts, toAccount } from "../store/accounts.ts";
import { appendAudit } from "../store/audit.ts";

/** Mounted at /v1/accounts. */
export function accountRoutes(db: Db): Hono<SidecarEnv> {
  return new Hono<SidecarEnv>()
    .use(requireCaller(db))
    .post("/", async (c) => {
      const caller = c.var.caller;
      requirePlatformAdmin(caller, "create accounts");
      const input = await jsonBody(c, CreateAccountSchema);
      const account = await db.transaction(async (tx) => {
        const row = await insertAccount(tx, input.name, input.platform_admin);
        if (row === null) return fail("conflict", `account ${input.name} already exists`);
        await appendAudit(tx, {
          actor: caller.account,
          action: "account.create",
          subject: row.name,
          details: { platform_admin: row.platform_admin },
        });
        return toAccount(row);
      });
      return c.json(account, 201);
    })
    .get("/", async (c) => {
      requirePlatformAdmin(c.var.caller, "list accounts");
      return c.json({ accounts: (await listAccounts(db)).map(toAccount) });
    });
}
