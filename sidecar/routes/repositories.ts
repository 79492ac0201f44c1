/**
 *   POST   /v1/repositories {id}          register a repository → 201 (200 when already known) Repository
 *   DELETE /v1/repositories/:owner/:name  forget it and every grant on it → {deleted, grants_removed}
 *
 * The Worker calls these when it creates or deletes a repository. With the caller's token, creating
 * needs a platform admin (as `authorize` with repository null does) and makes the caller's account
 * the repository's admin; deleting needs a platform admin or the repository's admin. Without an
 * Authorization header the request is the Worker's operator (its break-glass token is not an
 * account): the signature alone vouches for it, and no grant is made.
 */
import { Hono } from "hono";
import { z } from "zod";
import { RepositoryIdSchema } from "../../schema/index-document.ts";
import type { Caller } from "../access.ts";
import type { Db } from "../db.ts";
import { fail, jsonBody, parseWith } from "../errors.ts";
import { callerOf } from "../middleware/caller.ts";
import { requirePlatformAdmin, requireRepositoryAdmin } from "../permissions.ts";
import { appendAudit } from "../store/audit.ts";
import { upsertGrant } from "../store/grants.ts";
import { deleteRepository, insertRepository, repositoryById, toRepository } from "../store/repositories.ts";

const CreateRepositorySchema = z.object({ id: RepositoryIdSchema });

/** Who the audit log names for the Worker's operator (parentheses: no account can be called that). */
const OPERATOR = "(operator)";

/** Mounted at /v1/repositories. */
export function repositoryRoutes(db: Db): Hono {
  return new Hono()
    .post("/", async (c) => {
      const caller = await callerOf(c, db);
      if (caller !== null) requirePlatformAdmin(caller, "create repositories");
      const { id } = await jsonBody(c, CreateRepositorySchema);
      const created = await db.transaction(async (tx) => {
        if (!(await insertRepository(tx, id, caller?.accountId ?? null))) return false;
        await appendAudit(tx, { actor: actorName(caller), action: "repository.create", repository: id, subject: id });
        if (caller !== null) {
          await upsertGrant(tx, id, { kind: "account", accountId: caller.accountId }, "admin");
          await appendAudit(tx, {
            actor: actorName(caller),
            action: "grant.set",
            repository: id,
            subject: `account:${caller.account}`,
            details: { role: "admin", previous_role: null },
          });
        }
        return true;
      });
      const row = await repositoryById(db, id);
      if (row === null) return fail("not_found", `repository ${id} was deleted while it was being registered`);
      return c.json(toRepository(row), created ? 201 : 200);
    })
    .delete("/:owner/:name", async (c) => {
      const caller = await callerOf(c, db);
      const id = parseWith(RepositoryIdSchema, `${c.req.param("owner")}/${c.req.param("name")}`, "repository");
      if (caller !== null) await requireRepositoryAdmin(db, caller, id);
      const removed = await db.transaction(async (tx) => {
        if ((await repositoryById(tx, id)) === null) return fail("not_found", `no repository ${id}`);
        const grants = await deleteRepository(tx, id);
        await appendAudit(tx, {
          actor: actorName(caller),
          action: "repository.delete",
          repository: id,
          subject: id,
          details: { grants_removed: grants },
        });
        return grants;
      });
      return c.json({ deleted: id, grants_removed: removed });
    });
}

function actorName(caller: Caller | null): string {
  return caller?.account ?? OPERATOR;
}
