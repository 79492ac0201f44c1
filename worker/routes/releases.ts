/**
 * Releases, publishing and trusted keys, below /api/v1/repositories/:owner/:name:
 *
 *   GET  /                              the repository: base URL, visibility, hostnames, active release
 *   POST /releases                      open a release {from: "active" | "empty" | id}
 *   GET  /releases                      list, newest first
 *   GET  /releases/:id                  show (dists, signatures, counts)
 *   DELETE /releases/:id                discard the open release and what only it holds
 *   GET  /releases/:id/diff/:other      packages added and removed from :id to :other
 *   POST /releases/:id/activate         activate, or roll back to a retired release (admin)
 *   GET  /activations                   the activation log
 *   POST /dists/:dist/generate          regenerate dirty indexes → { document (unsigned TOML), regenerated, reused }
 *   POST /dists/:dist/signed            submit the signed TOML (?activate=false stages it)
 *   GET|POST /keys, DELETE /keys/:fingerprint   trusted keys; POST also takes a revoked key or a
 *                                              revocation certificate (200, the key named as revoked)
 */
import { Hono } from "hono";
import { AddKeySchema, CreateReleaseSchema } from "../../schema/api.ts";
import {
  DistSchema,
  FingerprintSchema,
  formatIndexDocument,
  parseIndexDocument,
  ReleaseIdSchema,
  SignedIndexDocumentSchema,
} from "../../schema/index-document.ts";
import { authorize } from "../access.ts";
import type { ApiEnv } from "../context.ts";
import { fail, jsonBody, parseWith, unwrap } from "../errors.ts";
import { forgetRepository } from "../repositories.ts";
import { repositoryStub } from "../stub.ts";
import * as webhooks from "../webhooks/events.ts";

export const releaseRoutes = new Hono<ApiEnv>();

releaseRoutes.get("/", async (c) => {
  const repo = c.get("repository");
  await authorize(c, repo, "read");
  const info = unwrap(await repositoryStub(c.env, repo.scope).info());
  const hosts = await c.env.DB.prepare("SELECT hostname FROM hostnames WHERE repository_id = ? ORDER BY hostname")
    .bind(repo.id)
    .all<{ hostname: string }>();
  return c.json({
    ...info,
    visibility: repo.visibility,
    active_release: repo.activeRelease,
    hostnames: hosts.results.map((h) => h.hostname),
  });
});

releaseRoutes.post("/releases", async (c) => {
  const repo = c.get("repository");
  await authorize(c, repo, "write");
  const input = await jsonBody(c, CreateReleaseSchema);
  return c.json(unwrap(await repositoryStub(c.env, repo.scope).createRelease(input)), 201);
});

releaseRoutes.get("/releases", async (c) => {
  const repo = c.get("repository");
  await authorize(c, repo, "read");
  return c.json(unwrap(await repositoryStub(c.env, repo.scope).listReleases()));
});

releaseRoutes.get("/releases/:id", async (c) => {
  const repo = c.get("repository");
  await authorize(c, repo, "read");
  const id = parseWith(ReleaseIdSchema, c.req.param("id"), "release");
  return c.json(unwrap(await repositoryStub(c.env, repo.scope).showRelease(id)));
});

releaseRoutes.get("/releases/:id/diff/:other", async (c) => {
  const repo = c.get("repository");
  await authorize(c, repo, "read");
  const from = parseWith(ReleaseIdSchema, c.req.param("id"), "release");
  const to = parseWith(ReleaseIdSchema, c.req.param("other"), "other");
  return c.json(unwrap(await repositoryStub(c.env, repo.scope).diffReleases(from, to)));
});

releaseRoutes.delete("/releases/:id", async (c) => {
  const repo = c.get("repository");
  await authorize(c, repo, "write");
  const id = parseWith(ReleaseIdSchema, c.req.param("id"), "release");
  return c.json(unwrap(await repositoryStub(c.env, repo.scope).discardRelease(id)));
});

releaseRoutes.post("/releases/:id/activate", async (c) => {
  const repo = c.get("repository");
  await authorize(c, repo, "admin");
  const id = parseWith(ReleaseIdSchema, c.req.param("id"), "release");
  const result = await repositoryStub(c.env, repo.scope).activate(id);
  forgetRepository(repo.id);
  if (result.ok) webhooks.releaseActivated(c, repo, result.value.release, result.value.activated_at);
  else if (webhooks.refusalCode(result) === "activation_pending") webhooks.releaseActivated(c, repo, id, "latest");
  return c.json(unwrap(result));
});

releaseRoutes.get("/activations", async (c) => {
  const repo = c.get("repository");
  await authorize(c, repo, "read");
  return c.json(unwrap(await repositoryStub(c.env, repo.scope).activations()));
});

releaseRoutes.post("/dists/:dist/generate", async (c) => {
  const repo = c.get("repository");
  await authorize(c, repo, "write");
  const dist = parseWith(DistSchema, c.req.param("dist"), "dist");
  const result = unwrap(await repositoryStub(c.env, repo.scope).generate(dist));
  return c.json({ ...result, document: formatIndexDocument(result.document) });
});

releaseRoutes.post("/dists/:dist/signed", async (c) => {
  const repo = c.get("repository");
  await authorize(c, repo, "write");
  const dist = parseWith(DistSchema, c.req.param("dist"), "dist");
  // Publishing a signed index activates it: the trusted signature is the authority, so uploaders
  // may do it; explicit activation and rollback (POST /releases/:id/activate) need an admin.
  const activate = c.req.query("activate") !== "false";
  const text = await c.req.text();
  const doc = parseIndexDocument(text, SignedIndexDocumentSchema);
  if (!doc.ok) return fail(doc.error.code, doc.error.message);
  if (doc.value.dist !== dist) {
    return fail("malformed_document", `the document is for dist ${doc.value.dist}, but was uploaded to ${dist}`);
  }
  const result = await repositoryStub(c.env, repo.scope).submit(doc.value, { activate });
  forgetRepository(repo.id);
  // Active in the object, the edge's pointer pending (503): the consumer sends release.activated
  // once the edge serves it. A submit activates an open release, so this is its first activation.
  if (result.ok ? result.value.activated : webhooks.refusalCode(result) === "activation_pending") {
    webhooks.releaseActivated(c, repo, doc.value.release, "first");
  }
  return c.json(unwrap(result));
});

releaseRoutes.get("/keys", async (c) => {
  const repo = c.get("repository");
  await authorize(c, repo, "read");
  return c.json(unwrap(await repositoryStub(c.env, repo.scope).listKeys()));
});

releaseRoutes.post("/keys", async (c) => {
  const repo = c.get("repository");
  await authorize(c, repo, "admin");
  const input = await jsonBody(c, AddKeySchema);
  const key = unwrap(await repositoryStub(c.env, repo.scope).addKey(input.key));
  webhooks.keyAnswered(c, repo, key);
  // A revocation is a success too, but it creates no trust: 200, with the key named as revoked.
  return c.json(key, key.status === "revoked" ? 200 : 201);
});

releaseRoutes.delete("/keys/:fingerprint", async (c) => {
  const repo = c.get("repository");
  await authorize(c, repo, "admin");
  const fingerprint = parseWith(FingerprintSchema, c.req.param("fingerprint"), "fingerprint");
  const removed = unwrap(await repositoryStub(c.env, repo.scope).removeKey(fingerprint));
  webhooks.keyRemoved(c, repo, removed.removed);
  return c.json(removed);
});
