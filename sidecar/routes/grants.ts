/**
 *   POST   /v1/grants  {repository, account | token_id, role}   set a role (insert or replace) → 201 grant
 *   DELETE /v1/grants  {repository, account | token_id, role?}  remove it (only if it is `role`, when given) → 204
 *   GET    /v1/grants  ?repository=R                            every grant on R → {grants}
 *
 * All need a platform admin or the repository's admin.
 */
import { Hono } from "hono";
import { z } from "zod";
import { RepositoryIdSchema } from "../../schema/index-document.ts";
import { GrantSchema, RoleSchema } from "../../schema/sidecar.ts";
import type { SidecarEnv } from "../context.ts";
import type { Db } from "../db.ts";
import { fail, jsonBody, parseWith } from "../errors.ts";
import { requireCaller } from "../middleware/caller.ts";
import { requireRepositoryAdmin } from "../permissions.ts";
import { accountByName } from "../store/accounts.ts";
import { appendAudit } from "../store/audit.ts";
import { currentRole, deleteGrant, type Grantee, listGrants, upsertGrant } from "../store/grants.ts";
import { lockRepository, repositoryById } from "../store/repositories.ts";
import { tokenById } from "../store/tokens.ts";

const RevokeGrantSchema = GrantSchema.extend({ role: RoleSchema.optional() });
const ListGrantsQuerySchema = z.object({ repository: RepositoryIdSchema });

/** Mounted at /v1/grants. */
export function grantRoutes(db: Db): Hono<SidecarEnv> {
  return new Hono<SidecarEnv>()
    .use(requireCaller(db))
    .post("/", async (c) => {
      const caller = c.var.caller;
      const input = await jsonBody(c, GrantSchema);
      const who = granteeOf(input);
      await requireRepositoryAdmin(db, caller, input.repository);
      const grant = await db.transaction(async (tx) => {
        if (!(await lockRepository(tx, input.repository))) {
          return fail("not_found", `no repository ${input.repository}`);
        }
        const grantee = await resolve(tx, who);
        const previous = await currentRole(tx, input.repository, grantee);
        const saved = await upsertGrant(tx, input.repository, grantee, input.role);
        await appendAudit(tx, {
          actor: caller.account,
          action: "grant.set",
          repository: input.repository,
          subject: who.label,
          details: { role: input.role, previous_role: previous },
        });
        return saved;
      });
      return c.json(grant, 201);
    })
    .delete("/", async (c) => {
      const caller = c.var.caller;
      const input = await jsonBody(c, RevokeGrantSchema);
      const who = granteeOf(input);
      await requireRepositoryAdmin(db, caller, input.repository);
      await db.transaction(async (tx) => {
        const grantee = await resolve(tx, who);
        const removed = await deleteGrant(tx, input.repository, grantee, input.role ?? null);
        if (removed === null) {
          const which = input.role === undefined ? "grant" : `${input.role} grant`;
          return fail("not_found", `${who.label} has no ${which} on ${input.repository}`);
        }
        await appendAudit(tx, {
          actor: caller.account,
          action: "grant.delete",
          repository: input.repository,
          subject: who.label,
          details: { role: removed },
        });
      });
      return c.body(null, 204);
    })
    .get("/", async (c) => {
      const caller = c.var.caller;
      const { repository } = parseWith(ListGrantsQuerySchema, c.req.query(), "query");
      await requireRepositoryAdmin(db, caller, repository);
      if ((await repositoryById(db, repository)) === null) return fail("not_found", `no repository ${repository}`);
      return c.json({ grants: await listGrants(db, repository) });
    });
}

type Who = { kind: "account"; name: string; label: string } | { kind: "token"; id: string; label: string };

/** Exactly one of `account` and `token_id`. */
function granteeOf(input: { account?: string | undefined; token_id?: string | undefined }): Who {
  if (input.account !== undefined && input.token_id === undefined) {
    return { kind: "account", name: input.account, label: `account:${input.account}` };
  }
  if (input.token_id !== undefined && input.account === undefined) {
    return { kind: "token", id: input.token_id, label: `token:${input.token_id}` };
  }
  return fail("invalid_request", "body: give exactly one of account and token_id", { field: "body.account" });
}

async function resolve(db: Db, who: Who): Promise<Grantee> {
  if (who.kind === "account") {
    const account = await accountByName(db, who.name);
    if (account === null) return fail("not_found", `no account ${who.name}`);
    return { kind: "account", accountId: account.id };
  }
  const token = await tokenById(db, who.id);
  if (token === null) return fail("not_found", `no token ${who.id}`);
  return { kind: "token", tokenId: token.id };
}
