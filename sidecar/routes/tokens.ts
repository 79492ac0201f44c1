/**
 *   POST   /v1/tokens      {name, account?, expires_in_days?}  → 201 CreatedToken (the secret, this once)
 *   GET    /v1/tokens      ?account=  the caller's tokens, or (platform admins) another account's → {tokens}
 *   DELETE /v1/tokens/:id  revoke one of the caller's tokens (platform admins: anyone's) → Token
 *
 * A token of another account is "not found" to a caller who may not manage it, so ids cannot be
 * probed.
 */
import { Hono } from "hono";
import { z } from "zod";
import { CreateTokenSchema } from "../../schema/sidecar.ts";
import type { Caller } from "../access.ts";
import type { SidecarEnv } from "../context.ts";
import type { Db } from "../db.ts";
import { fail, jsonBody, parseWith } from "../errors.ts";
import { requireCaller } from "../middleware/caller.ts";
import { requirePlatformAdmin } from "../permissions.ts";
import { accountByName } from "../store/accounts.ts";
import { appendAudit } from "../store/audit.ts";
import { insertToken, listTokens, revokeToken, tokenById, toToken } from "../store/tokens.ts";

const ListTokensQuerySchema = z.object({ account: z.string().min(1).max(100).optional() });

/** Mounted at /v1/tokens. */
export function tokenRoutes(db: Db): Hono<SidecarEnv> {
  return new Hono<SidecarEnv>()
    .use(requireCaller(db))
    .post("/", async (c) => {
      const caller = c.var.caller;
      const input = await jsonBody(c, CreateTokenSchema);
      const accountId = await accountFor(db, caller, input.account, "create tokens for another account");
      const created = await db.transaction(async (tx) => {
        const { row, token } = await insertToken(tx, {
          accountId,
          name: input.name,
          expiresInDays: input.expires_in_days ?? null,
        });
        await appendAudit(tx, {
          actor: caller.account,
          action: "token.create",
          subject: row.id,
          details: {
            account: row.account,
            name: row.name,
            prefix: toToken(row).prefix,
            expires_at: toToken(row).expires_at,
          },
        });
        return { ...toToken(row), token };
      });
      return c.json(created, 201);
    })
    .get("/", async (c) => {
      const caller = c.var.caller;
      const query = parseWith(ListTokensQuerySchema, c.req.query(), "query");
      const accountId = await accountFor(db, caller, query.account, "list another account's tokens");
      return c.json({ tokens: (await listTokens(db, accountId)).map(toToken) });
    })
    .delete("/:id", async (c) => {
      const caller = c.var.caller;
      const id = c.req.param("id");
      const revoked = await db.transaction(async (tx) => {
        const row = await tokenById(tx, id);
        if (row === null || (row.account_id !== caller.accountId && !caller.platformAdmin)) {
          return fail("not_found", `no token ${id} on your account; armor token list shows their ids`);
        }
        if (row.revoked_at !== null) return toToken(row);
        await revokeToken(tx, id);
        await appendAudit(tx, {
          actor: caller.account,
          action: "token.revoke",
          subject: id,
          details: { account: row.account, name: row.name, prefix: toToken(row).prefix },
        });
        const after = await tokenById(tx, id);
        if (after === null) throw new Error(`token ${id} vanished inside its own transaction`);
        return toToken(after);
      });
      return c.json(revoked);
    });
}

/** The account a token request is about: the caller's own, or (platform admins only) a named one. */
async function accountFor(db: Db, caller: Caller, name: string | undefined, doing: string): Promise<string> {
  if (name === undefined || name === caller.account) return caller.accountId;
  requirePlatformAdmin(caller, doing);
  const account = await accountByName(db, name);
  if (account === null) return fail("not_found", `no account ${name}`);
  return account.id;
}
