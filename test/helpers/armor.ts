/**
 * Drive the Worker as a client would, through its HTTP API (`exports.default.fetch`), inside
 * workerd: create repositories, upload packages, generate, sign with a test key, publish.
 */
import { env, exports } from "cloudflare:workers";
import * as openpgp from "openpgp";
import { inject } from "vitest";
import { buildDeb } from "../../deb/deb-writer.ts";
import { hashBytes } from "../../deb/hash.ts";
import { blobKey, repositoryScope } from "../../r2/blobs.ts";
import type { UnsignedIndexDocument } from "../../schema/index-document.ts";
import { formatIndexDocument, parseIndexDocument, UnsignedIndexDocumentSchema } from "../../schema/index-document.ts";

export const PLATFORM = "http://localhost";
const TOKEN = "test-operator-token";

let counter = 0;
/** A repository id no other test in this file uses (storage is isolated per file, not per test). */
export function uniqueRepo(prefix = "repo"): string {
  counter += 1;
  return `acme/${prefix}-${counter}-${Math.random().toString(36).slice(2, 8)}`;
}

/** A request as the operator (or with `auth: null`, anonymously). */
export async function call(
  path: string,
  init: RequestInit & { auth?: string | null; host?: string } = {},
): Promise<Response> {
  const headers = new Headers(init.headers);
  const auth = init.auth === undefined ? TOKEN : init.auth;
  if (auth !== null && !headers.has("authorization")) headers.set("authorization", `Bearer ${auth}`);
  const base = init.host === undefined ? PLATFORM : `http://${init.host}`;
  return exports.default.fetch(new Request(`${base}${path}`, { ...init, headers }));
}

export async function json<T = Record<string, unknown>>(res: Response): Promise<T> {
  return (await res.json()) as T;
}

export async function createRepo(
  id: string,
  options: {
    hostnames?: string[];
    visibility?: "public" | "private";
    may_reuse_versions?: boolean;
    retention_days?: number;
    trustKey?: boolean;
  } = {},
): Promise<void> {
  const { trustKey = true, ...body } = options;
  const res = await call("/admin/v1/repositories", { method: "POST", body: JSON.stringify({ id, ...body }) });
  if (res.status !== 201) throw new Error(`creating ${id} failed: ${res.status} ${await res.text()}`);
  if (trustKey) {
    const key = await call(`/api/v1/repositories/${id}/keys`, {
      method: "POST",
      body: JSON.stringify({ key: inject("keys").trusted.public }),
    });
    if (key.status !== 201) throw new Error(`trusting the test key failed: ${key.status} ${await key.text()}`);
  }
}

export interface TestDeb {
  bytes: Uint8Array;
  sha256: string;
  md5: string;
  size: number;
}

/** A small valid package from deb/'s writer. */
export function makeDeb(
  name: string,
  version: string,
  architecture: string,
  extra: Record<string, string> = {},
): TestDeb {
  const fields = [
    { name: "Package", value: name },
    { name: "Version", value: version },
    { name: "Architecture", value: architecture },
    { name: "Maintainer", value: "Armor Tests <tests@armor.invalid>" },
    ...Object.entries(extra).map(([n, v]) => ({ name: n, value: v })),
    { name: "Description", value: `test package ${name}\n Built by Armor's tests.` },
  ];
  const bytes = buildDeb({
    fields,
    files: [{ path: `/usr/share/doc/${name}/README`, data: `${name} ${version} ${architecture}\n` }],
    mtime: 1_700_000_000,
  });
  const h = hashBytes(bytes);
  return { bytes, sha256: h.sha256, md5: h.md5, size: h.size };
}

export async function uploadDeb(repo: string, deb: TestDeb): Promise<Response> {
  return call(`/api/v1/repositories/${repo}/blobs/${deb.sha256}`, {
    method: "PUT",
    body: deb.bytes,
    headers: { "content-length": String(deb.size) },
  });
}

export async function addPackages(repo: string, dist: string, component: string, debs: TestDeb[]): Promise<Response> {
  return call(`/api/v1/repositories/${repo}/packages`, {
    method: "POST",
    body: JSON.stringify({ dist, component, packages: debs.map((d) => d.sha256) }),
  });
}

/** Upload and add, asserting success: the common preparation step of a test. */
export async function push(repo: string, dist: string, component: string, debs: TestDeb[]): Promise<void> {
  for (const d of debs) {
    const res = await uploadDeb(repo, d);
    if (res.status !== 201 && res.status !== 200) throw new Error(`upload failed: ${res.status} ${await res.text()}`);
  }
  const res = await addPackages(repo, dist, component, debs);
  if (res.status !== 200) throw new Error(`add failed: ${res.status} ${await res.text()}`);
}

export async function generate(
  repo: string,
  dist: string,
): Promise<{ document: UnsignedIndexDocument; text: string; regenerated: string[]; reused: string[] }> {
  const res = await call(`/api/v1/repositories/${repo}/dists/${dist}/generate`, { method: "POST" });
  if (res.status !== 200) throw new Error(`generate failed: ${res.status} ${await res.text()}`);
  const body = await json<{ document: string; regenerated: string[]; reused: string[] }>(res);
  const parsed = parseIndexDocument(body.document, UnsignedIndexDocumentSchema);
  if (!parsed.ok) throw new Error(parsed.error.message);
  return { document: parsed.value, text: body.document, regenerated: body.regenerated, reused: body.reused };
}

/**
 * Sign as `armor index sign` does: a clearsigned InRelease and a detached Release.gpg. The final
 * newline is left out of the cleartext because the clearsign framework supplies it (RFC 9580
 * §7.1), which is what gpg --clearsign produces.
 */
export async function sign(
  doc: UnsignedIndexDocument,
  key: { secret: string; fingerprint: string } = inject("keys").trusted,
): Promise<string> {
  const signingKey = await openpgp.readPrivateKey({ armoredKey: key.secret });
  const inrelease = await openpgp.sign({
    message: await openpgp.createCleartextMessage({ text: doc.release_text.replace(/\n$/, "") }),
    signingKeys: signingKey,
  });
  const releaseGpg = await openpgp.sign({
    message: await openpgp.createMessage({ binary: new TextEncoder().encode(doc.release_text) }),
    signingKeys: signingKey,
    detached: true,
  });
  return formatIndexDocument({ ...doc, inrelease, release_gpg: releaseGpg, fingerprint: key.fingerprint });
}

export async function submit(repo: string, dist: string, signed: string, query = ""): Promise<Response> {
  return call(`/api/v1/repositories/${repo}/dists/${dist}/signed${query}`, { method: "POST", body: signed });
}

/** generate → sign → submit for each dist; returns the last submit's body. */
export async function publish(repo: string, dists: string[]): Promise<Record<string, unknown>> {
  let last: Record<string, unknown> = {};
  for (const dist of dists) {
    const { document } = await generate(repo, dist);
    const res = await submit(repo, dist, await sign(document));
    if (res.status !== 200) throw new Error(`submit failed: ${res.status} ${await res.text()}`);
    last = await json(res);
  }
  return last;
}

/** Fetch a file as apt would (anonymously) from a repository served by path. */
export async function apt(
  repo: string,
  path: string,
  init: RequestInit & { auth?: string | null } = {},
): Promise<Response> {
  return call(`/${repo}/${path}`, { auth: null, ...init });
}

export async function bytesOf(res: Response): Promise<Uint8Array> {
  return new Uint8Array(await res.arrayBuffer());
}

export function sha256Hex(bytes: Uint8Array): string {
  return hashBytes(bytes).sha256;
}

/** The creation id D1 holds for a repository created through the API. */
export async function uidOf(repo: string): Promise<string | null> {
  const row = await env.DB.prepare("SELECT uid FROM repositories WHERE id = ?")
    .bind(repo)
    .first<{ uid: string | null }>();
  if (row === null) throw new Error(`no repository ${repo} in D1`);
  return row.uid;
}

/** The scope a repository created through the API lives under (its id and creation id). */
export async function scopeOf(repo: string): Promise<string> {
  return repositoryScope(repo, await uidOf(repo));
}

/** The Durable Object of a repository created through the API. */
export async function stubOf(repo: string) {
  return env.REPOSITORY.get(env.REPOSITORY.idFromName(await scopeOf(repo)));
}

/** The R2 key a repository created through the API keeps the blob `sha256` at. */
export async function blobKeyOf(repo: string, sha256: string): Promise<string> {
  return blobKey(await scopeOf(repo), sha256);
}
