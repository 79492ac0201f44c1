/**
 *   GET /v1/whoami   the caller's account, the token it used, and every grant it holds → Whoami
 *
 * What `armor login` checks a token with before storing it, and what `armor whoami` prints.
 */
import { Hono } from "hono";
import type { Whoami } from "../../schema/sidecar.ts";
import type { SidecarEnv } from "../context.ts";
import type { Db } from "../db.ts";
import { requireCaller } from "../middleware/caller.ts";
import { grantsHeldBy } from "../store/grants.ts";
import { tokenById, toToken } from "../store/tokens.ts";

/** Mounted at /v1/whoami. */
export function whoamiRoutes(db: Db): Hono<SidecarEnv> {
  return new Hono<SidecarEnv>().use(requireCaller(db)).get("/", async (c) => {
    const caller = c.var.caller;
    const token = await tokenById(db, caller.tokenId);
    const answer: Whoami = {
      kind: "token",
      account: caller.account,
      platform_admin: caller.platformAdmin,
      token: token === null ? null : toToken(token),
      grants: await grantsHeldBy(db, caller.accountId, caller.tokenId),
    };
    return c.json(answer);
  });
}
