/**
 *   GET /v1/audit  ?repository=R&limit=N  the newest audit entries first (platform admins) → {entries}
 */
import { Hono } from "hono";
import { z } from "zod";
import { RepositoryIdSchema } from "../../schema/index-document.ts";
import type { SidecarEnv } from "../context.ts";
import type { Db } from "../db.ts";
import { parseWith } from "../errors.ts";
import { requireCaller } from "../middleware/caller.ts";
import { requirePlatformAdmin } from "../permissions.ts";
import { listAudit } from "../store/audit.ts";

const AuditQuerySchema = z.object({
  repository: RepositoryIdSchema.optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

/** Mounted at /v1/audit. */
export function auditRoutes(db: Db): Hono<SidecarEnv> {
  return new Hono<SidecarEnv>().use(requireCaller(db)).get("/", async (c) => {
    requirePlatformAdmin(c.var.caller, "read the audit log");
    const query = parseWith(AuditQuerySchema, c.req.query(), "query");
    return c.json({ entries: await listAudit(db, { repository: query.repository ?? null, limit: query.limit }) });
  });
}
