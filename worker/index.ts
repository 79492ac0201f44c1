/**
 * The edge Worker: one Hono app for apt serving, the upload API and the admin API. Routes arrive
 * with the repository issue; the error envelope below is the contract every route answers with.
 */
import { Hono } from "hono";

export { RepositoryObject } from "../objects/repository/repository-object.ts";

const app = new Hono<{ Bindings: Env }>();

app.get("/healthz", (c) => c.json({ ok: true }));

app.notFound((c) =>
  c.json({ error: { code: "not_found", message: `no route for ${c.req.method} ${c.req.path}` } }, 404),
);

app.onError((err, c) => {
  console.error("unhandled error", err);
  return c.json({ error: { code: "internal_error", message: "internal error; it has been logged" } }, 500);
});

export default app satisfies ExportedHandler<Env>;
