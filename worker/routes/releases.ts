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
import { hostnamesOf } from "../../d1/statements.ts";
import { AddKeySchema, CreateReleaseSchema } from "../../schema/api.ts";
import {
  DistSchema,
  FingerprintSchema,
  formatIndexDocument,
  parseIndexDocument,
  ReleaseIdSchema,
  SignedIndexDocumentSchema,
} from "../../schema/index-document.ts";
import type { Generated, RepositoryInfo } from "../../schema/responses.ts";
import type { ApiEnv } from "../context.ts";
import { fail, jsonBody, parseWith, unwrap } from "../errors.ts";
import { requires } from "../middleware/requires.ts";
import { forgetRepository } from "../repositories.ts";
import { repositoryStub } from "../stub.ts";
import * as webhooks from "../webhooks/events.ts";

export const releaseRoutes = new Hono<ApiEnv>();

releaseRoutes.get("/", requires("read"), async (c) => {
  const repo = c.get("repository");
  const info = unwrap(await repositoryStub(c.env, repo.scope).info());
  const hostnames = await hostnamesOf(c.env.DB, repo.id);
  return c.json({
    ...info,
    visibility: repo.visibility,
    active_release: repo.activeRelease,
    hostnames,
  } satisfies RepositoryInfo);
});

releaseRoutes.post("/releases", requires("write"), async (c) => {
  const repo = c.get("repository");
  const input = await jsonBody(c, CreateReleaseSchema);
  return c.json(unwrap(await repositoryStub(c.env, repo.scope).createRelease(input)), 201);
});

releaseRoutes.get("/releases", requires("read"), async (c) => {
  const repo = c.get("repository");
  return c.json(unwrap(await repositoryStub(c.env, repo.scope).listReleases()));
});

releaseRoutes.get("/releases/:id", requires("read"), async (c) => {
  const repo = c.get("repository");
  const id = parseWith(ReleaseIdSchema, c.req.param("id"), "release");
  return c.json(unwrap(await repositoryStub(c.env, repo.scope).showRelease(id)));
});

releaseRoutes.get("/releases/:id/diff/:other", requires("read"), async (c) => {
  const repo = c.get("repository");
  const from = parseWith(ReleaseIdSchema, c.req.param("id"), "release");
  const to = parseWith(ReleaseIdSchema, c.req.param("other"), "other");
  return c.json(unwrap(await repositoryStub(c.env, repo.scope).diffReleases(from, to)));
});

releaseRoutes.delete("/releases/:id", requires("write"), async (c) => {
  const repo = c.get("repository");
  const id = parseWith(ReleaseIdSchema, c.req.param("id"), "release");
  return c.json(unwrap(await repositoryStub(c.env, repo.scope).discardRelease(id)));
});

releaseRoutes.post("/releases/:id/activate", requires("admin"), async (c) => {
  const repo = c.get("repository");
  const id = parseWith(ReleaseIdSchema, c.req.param("id"), "release");
  const result = await repositoryStub(c.env, repo.scope).activate(id);
  forgetRepository(repo.id);
  if (result.ok) webhooks.releaseActivated(c, repo, result.value.release, result.value.activated_at);
  else if (webhooks.refusalCode(result) === "activation_pending") webhooks.releaseActivated(c, repo, id, "latest");
  return c.json(unwrap(result));
});

releaseRoutes.get("/activations", requires("read"), async (c) => {
  const repo = c.get("repository");
  return c.json(unwrap(await repositoryStub(c.env, repo.scope).activations()));
});

releaseRoutes.post("/dists/:dist/generate", requires("write"), async (c) => {
  const repo = c.get("repository");
  const dist = parseWith(DistSchema, c.req.param("dist"), "dist");
  const result = unwrap(await repositoryStub(c.env, repo.scope).generate(dist));
  return c.json({ ...result, document: formatIndexDocument(result.document) } satisfies Generated);
});

releaseRoutes.post("/dists/:dist/signed", requires("write"), async (c) => {
  const repo = c.get("repository");
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

releaseRoutes.get("/keys", requires("read"), async (c) => {
  const repo = c.get("repository");
  return c.json(unwrap(await repositoryStub(c.env, repo.scope).listKeys()));
});

releaseRoutes.post("/keys", requires("admin"), async (c) => {
  const repo = c.get("repository");
  const input = await jsonBody(c, AddKeySchema);
  const key = unwrap(await repositoryStub(c.env, repo.scope).addKey(input.key));
  webhooks.keyAnswered(c, repo, key);
  // A revocation is a success too, but it creates no trust: 200, with the key named as revoked.
  return c.json(key, key.status === "revoked" ? 200 : 201);
});

releaseRoutes.delete("/keys/:fingerprint", requires("admin"), async (c) => {
  const repo = c.get("repository");
  const fingerprint = parseWith(FingerprintSchema, c.req.param("fingerprint"), "fingerprint");
  const removed = unwrap(await repositoryStub(c.env, repo.scope).removeKey(fingerprint));
  webhooks.keyRemoved(c, repo, removed.removed);
  return c.json(removed);
});
