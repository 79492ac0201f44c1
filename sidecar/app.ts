/**
 * The accounts sidecar's HTTP API (DESIGN.md §6; the contract is schema/sidecar.ts):
 *
 *   GET  /healthz                      no auth; 200 when the database answers
 *   POST /v1/authorize                 the Worker's question (signature only)
 *   /v1/accounts, /v1/tokens, /v1/repositories, /v1/grants, /v1/audit
 *                                      management, proxied by the Worker: signature + the caller's token
 *
 * Every `/v1/…` request must carry the Worker's signature (middleware/signature.ts).
 */
import { Hono } from "hono";
import type { Db } from "./db.ts";
import { errorResponse, SidecarFailure } from "./errors.ts";
import { verifySignature } from "./middleware/signature.ts";
import { accountRoutes } from "./routes/accounts.ts";
import { auditRoutes } from "./routes/audit.ts";
import { authorizeRoutes } from "./routes/authorize.ts";
import { grantRoutes } from "./routes/grants.ts";
import { repositoryRoutes } from "./routes/repositories.ts";
import { tokenRoutes } from "./routes/tokens.ts";
import { whoamiRoutes } from "./routes/whoami.ts";

export interface AppOptions {
  db: Db;
  /** The secret shared with the Worker (ARMOR_SIDECAR_SECRET). */
  secret: string;
  /** The clock the replay window is measured against (tests move it). */
  now?: () => number;
}

/** The sidecar's Hono app over `db` (migrated already), verifying signatures with `secret`. */
export function createApp(options: AppOptions): Hono {
  const { db } = options;
  const app = new Hono();

  app.get("/healthz", async (c) => {
    try {
      await db.query("SELECT 1");
    } catch (cause) {
      console.error("armor sidecar: the database does not answer", cause);
      return errorResponse(c, { code: "unavailable", message: "the sidecar's database does not answer" });
    }
    return c.json({ ok: true });
  });

  app.use("/v1/*", verifySignature(options.secret, options.now));
  app.route("/v1/authorize", authorizeRoutes(db));
  app.route("/v1/accounts", accountRoutes(db));
  app.route("/v1/tokens", tokenRoutes(db));
  app.route("/v1/repositories", repositoryRoutes(db));
  app.route("/v1/grants", grantRoutes(db));
  app.route("/v1/audit", auditRoutes(db));
  app.route("/v1/whoami", whoamiRoutes(db));

  app.notFound((c) => errorResponse(c, { code: "not_found", message: `no route for ${c.req.method} ${c.req.path}` }));

  app.onError((err, c) => {
    if (err instanceof SidecarFailure) return errorResponse(c, err.error);
    console.error("armor sidecar: unhandled error", err);
    return errorResponse(c, { code: "internal_error", message: "internal error; it has been logged" });
  });

  return app;
}
