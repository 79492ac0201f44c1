/**
 * The Worker and a real sidecar process together: every role can do exactly what it may, tokens
 * stay inside their repository, revocation takes effect within the cache window, and the sidecar
 * being down fails writes closed while public reads go on.
 */
import { afterAll, beforeAll, describe, it } from "vitest";
import { buildDeb } from "../../deb/deb-writer.ts";
import { hashBytes } from "../../deb/hash.ts";
import { type LocalStack, type SidecarProcess, startLocalStack, startSidecar } from "../helpers/local-stack.ts";

const CACHE_SECONDS = 2;
let sidecar: SidecarProcess;
let stack: LocalStack;
const tokens: Record<string, { id: string; token: string }> = {};

async function call(path: string, token: string | null, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (token !== null) headers.set("authorization", `Bearer ${token}`);
  return fetch(`${stack.endpoint}${path}`, { ...init, headers });
}

async function ok<T>(res: Promise<Response>): Promise<T> {
  const r = await res;
  if (!r.ok) throw new Error(`${r.status} ${await r.text()}`);
  return (await r.json()) as T;
}

function deb(name: string): { bytes: Uint8Array; sha256: string } {
  const bytes = buildDeb({
    fields: [
      { name: "Package", value: name },
      { name: "Version", value: "1.0" },
      { name: "Architecture", value: "amd64" },
      { name: "Maintainer", value: "Armor Tests <tests@armor.invalid>" },
      { name: "Description", value: "access test package" },
    ],
    files: [],
  });
  return { bytes, sha256: hashBytes(bytes).sha256 };
}

beforeAll(async () => {
  sidecar = await startSidecar();
  stack = await startLocalStack({ sidecar, authCacheSeconds: CACHE_SECONDS });
  const admin = sidecar.adminToken;
  // Two private repositories and one public, made by the platform admin through the Worker.
  for (const [id, visibility] of [
    ["acme/alpha", "private"],
    ["acme/beta", "private"],
    ["acme/open", "public"],
  ] as const) {
    await ok(call("/admin/v1/repositories", admin, { method: "POST", body: JSON.stringify({ id, visibility }) }));
  }
  for (const role of ["viewer", "uploader", "admin", "none"] as const) {
    await ok(call("/api/v1/accounts", admin, { method: "POST", body: JSON.stringify({ name: `${role}-acct` }) }));
    const created = await ok<{ id: string; token: string }>(
      call("/api/v1/tokens", admin, {
        method: "POST",
        body: JSON.stringify({ name: "test", account: `${role}-acct` }),
      }),
    );
    tokens[role] = created;
    if (role !== "none") {
      await ok(
        call("/api/v1/repositories/acme/alpha/access", admin, {
          method: "POST",
          body: JSON.stringify({ account: `${role}-acct`, role }),
        }),
      );
    }
  }
}, 120_000);

afterAll(async () => {
  await stack?.close();
  await sidecar?.stop();
});

/** One request per action, on repository alpha. */
const actions = {
  read: () => ({ path: "/api/v1/repositories/acme/alpha/packages", init: {} }),
  write: () => {
    const d = deb(`pkg-${Math.random().toString(36).slice(2, 8)}`);
    return {
      path: `/api/v1/repositories/acme/alpha/blobs/${d.sha256}`,
      // fetch sets Content-Length itself for a byte body.
      init: { method: "PUT", body: d.bytes },
    };
  },
  batch: () => {
    const d = deb(`pkg-${Math.random().toString(36).slice(2, 8)}`);
    const form = new FormData();
    form.append(d.sha256, new Blob([new Uint8Array(d.bytes)]), "pkg.deb");
    // fetch sets the multipart Content-Type and Content-Length itself.
    return { path: "/api/v1/repositories/acme/alpha/blobs", init: { method: "POST", body: form } };
  },
  admin: () => ({ path: "/api/v1/repositories/acme/alpha/releases/r1/activate", init: { method: "POST" } }),
  webhooks: () => ({ path: "/api/v1/repositories/acme/alpha/webhooks", init: {} }),
} as const;

const EXPECTED: Record<string, Record<keyof typeof actions, boolean>> = {
  viewer: { read: true, write: false, batch: false, admin: false, webhooks: false },
  uploader: { read: true, write: true, batch: true, admin: false, webhooks: false },
  admin: { read: true, write: true, batch: true, admin: true, webhooks: true },
  none: { read: false, write: false, batch: false, admin: false, webhooks: false },
};

describe("roles through the Worker and the sidecar", () => {
  it.for(
    Object.entries(EXPECTED).flatMap(([role, allowed]) =>
      Object.entries(allowed).map(([action, may]) => [role, action as keyof typeof actions, may] as const),
    ),
  )("%s may %s: %s", async ([role, action, may], { expect }) => {
    const { path, init } = actions[action]();
    const res = await call(path, tokens[role]?.token ?? "", init);
    const body = (await res.json()) as {
      error?: { code: string; message: string; details?: { required_role: string } };
    };
    if (may) {
      // Allowed: whatever the object says next (e.g. no release r1 to activate), it is not an access refusal.
      expect([401, 403]).not.toContain(res.status);
    } else {
      expect(res.status).toBe(403);
      expect(body.error?.code).toBe("forbidden");
      const required = { read: "viewer", write: "uploader", batch: "uploader", admin: "admin", webhooks: "admin" }[
        action
      ];
      expect(body.error?.message).toContain(`needs the ${required} role on acme/alpha`);
    }
  });

  it("keeps a token inside the repositories it was granted", async ({ expect }) => {
    const res = await call("/api/v1/repositories/acme/beta/packages", tokens.admin?.token ?? "");
    expect(res.status).toBe(403);
    const create = await call("/admin/v1/repositories", tokens.admin?.token ?? "", {
      method: "POST",
      body: JSON.stringify({ id: "acme/gamma" }),
    });
    expect(create.status).toBe(403);
  });

  it("lets apt read a private repository with Basic auth and challenges it without", async ({ expect }) => {
    const anonymous = await call("/acme/alpha/dists/stable/InRelease", null);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get("www-authenticate")).toContain("Basic");
    const basic = await fetch(`${stack.endpoint}/acme/alpha/dists/stable/InRelease`, {
      headers: { authorization: `Basic ${btoa(`apt:${tokens.viewer?.token}`)}` },
    });
    // Authorized: nothing is published yet, so the object answers 404, not an access refusal.
    expect(basic.status).toBe(404);
    expect(((await basic.json()) as { error: { code: string } }).error.code).toBe("not_found");
    const open = await call("/acme/open/dists/stable/InRelease", null);
    expect(open.status).toBe(404);
  });

  it("refuses a revoked token once the cache window has passed", async ({ expect }) => {
    const created = await ok<{ id: string; token: string }>(
      call("/api/v1/tokens", sidecar.adminToken, {
        method: "POST",
        body: JSON.stringify({ name: "short-lived", account: "viewer-acct" }),
      }),
    );
    expect((await call("/api/v1/repositories/acme/alpha/packages", created.token)).status).toBe(200);
    const revoked = await call(`/api/v1/tokens/${created.id}`, sidecar.adminToken, { method: "DELETE" });
    expect(revoked.status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, CACHE_SECONDS * 1000 + 500));
    const after = await call("/api/v1/repositories/acme/alpha/packages", created.token);
    expect(after.status).toBe(401);
    expect(((await after.json()) as { error: { message: string } }).error.message).toContain("revoked");
  });

  it("manages tokens and grants through the Worker for the CLI", async ({ expect }) => {
    const listed = await ok<{ grants: { role: string }[] }>(
      call("/api/v1/repositories/acme/alpha/access", sidecar.adminToken),
    );
    expect(listed.grants.map((g) => g.role).sort()).toEqual(["admin", "admin", "uploader", "viewer"]);
    const mine = await ok<{ tokens: { account: string }[] }>(call("/api/v1/tokens", tokens.viewer?.token ?? ""));
    expect(mine.tokens.every((t) => t.account === "viewer-acct")).toBe(true);
  });

  it("lets one of two simultaneous creates of a repository win, and the other leave its registration alone", async ({
    expect,
  }) => {
    // Both pass the Worker's existence check before either inserts; the one D1 refuses must not
    // take the winner's registration (and its creator's admin grant) from the account layer.
    for (const n of [1, 2, 3]) {
      const id = `acme/twice-${n}`;
      const create = async () => {
        const res = await call("/admin/v1/repositories", sidecar.adminToken, {
          method: "POST",
          body: JSON.stringify({ id }),
        });
        await res.body?.cancel();
        return res.status;
      };
      expect((await Promise.all([create(), create()])).sort()).toEqual([201, 409]);
      const grants = await call(`/api/v1/repositories/${id}/access`, sidecar.adminToken);
      expect(grants.status, id).toBe(200);
      expect(((await grants.json()) as { grants: { role: string }[] }).grants.map((g) => g.role)).toEqual(["admin"]);
    }
  });

  it("fails writes closed when the sidecar is down, and keeps public reads going", async ({ expect }) => {
    // Warm the cache for a private read, then take the sidecar away.
    expect((await call("/api/v1/repositories/acme/alpha/packages", tokens.viewer?.token ?? "")).status).toBe(200);
    await sidecar.stop();
    const cached = await call("/api/v1/repositories/acme/alpha/packages", tokens.viewer?.token ?? "");
    expect(cached.status).toBe(200);
    const write = await call("/api/v1/repositories/acme/alpha/packages/remove", tokens.uploader?.token ?? "", {
      method: "POST",
      body: JSON.stringify({ dist: "stable", name: "nothing" }),
    });
    expect(write.status).toBe(503);
    expect(((await write.json()) as { error: { code: string } }).error.code).toBe("unavailable");
    const open = await call("/acme/open/dists/stable/InRelease", null);
    expect(open.status).toBe(404);
    await new Promise((resolve) => setTimeout(resolve, CACHE_SECONDS * 1000 + 500));
    const expired = await call("/api/v1/repositories/acme/alpha/packages", tokens.viewer?.token ?? "");
    expect(expired.status).toBe(503);
  });
});
