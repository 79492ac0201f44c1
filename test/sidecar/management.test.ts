import { afterAll, beforeAll, describe, type ExpectStatic, it } from "vitest";
import { GrantSchema } from "../../schema/sidecar.ts";
import {
  accountWithToken,
  BACKENDS,
  grant,
  type Reply,
  repository,
  type Sidecar,
  startSidecar,
  unique,
} from "./harness.ts";

/** Every error is `{ error: { code, message, details? } }` and nothing else. */
function expectEnvelope(expect: ExpectStatic, res: Reply, status: number, code: string): void {
  expect(res.status).toBe(status);
  expect(Object.keys(res.body)).toEqual(["error"]);
  expect(res.body.error.code).toBe(code);
  expect(typeof res.body.error.message).toBe("string");
  for (const key of Object.keys(res.body.error)) expect(["code", "message", "details"]).toContain(key);
}

describe.for(BACKENDS)("management endpoints on %s", (backend) => {
  let sidecar: Sidecar;
  beforeAll(async () => {
    sidecar = await startSidecar(backend);
  });
  afterAll(() => sidecar.close());

  async function audit(repo?: string) {
    const q = repo === undefined ? "" : `?repository=${repo}`;
    const res = await sidecar.call("GET", `/v1/audit${q}`, { token: sidecar.adminToken });
    expect200(res);
    return res.body.entries as {
      actor: string;
      action: string;
      subject: string;
      repository: string | null;
      details: Record<string, unknown>;
    }[];
  }

  describe("accounts", () => {
    it("are created by platform admins, once per name", async ({ expect }) => {
      const name = unique("team");
      const res = await sidecar.call("POST", "/v1/accounts", { token: sidecar.adminToken, body: { name } });
      expect(res.status).toBe(201);
      expect(res.body).toEqual({ name, platform_admin: false, created_at: expect.any(String) });
      const again = await sidecar.call("POST", "/v1/accounts", { token: sidecar.adminToken, body: { name } });
      expectEnvelope(expect, again, 409, "conflict");
      expect(again.body.error.message).toContain(name);
      const listed = await sidecar.call("GET", "/v1/accounts", { token: sidecar.adminToken });
      expect(listed.body.accounts).toContainEqual(res.body);
      expect(listed.body.accounts).toContainEqual(expect.objectContaining({ name: "admin", platform_admin: true }));
      const entries = (await audit()).filter((e) => e.subject === name);
      expect(entries).toEqual([
        expect.objectContaining({ actor: "admin", action: "account.create", details: { platform_admin: false } }),
      ]);
    });

    it("are not created or listed by anyone else", async ({ expect }) => {
      const { token, account } = await accountWithToken(sidecar);
      const res = await sidecar.call("POST", "/v1/accounts", { token, body: { name: unique("x") } });
      expectEnvelope(expect, res, 403, "forbidden");
      expect(res.body.error.message).toContain(`only a platform admin may create accounts; account ${account}`);
      expectEnvelope(expect, await sidecar.call("GET", "/v1/accounts", { token }), 403, "forbidden");
    });

    it.for([
      [{ name: "Has Spaces" }, "body.name: must be lowercase"],
      [{ name: "-leading" }, "body.name"],
      [{}, "body.name: is required"],
      [{ name: "ok", platform_admin: "yes" }, "body.platform_admin: must be a boolean"],
    ] as const)("refuse %j naming the field", async ([body, message], { expect }) => {
      const res = await sidecar.call("POST", "/v1/accounts", { token: sidecar.adminToken, body });
      expectEnvelope(expect, res, 400, "invalid_request");
      expect(res.body.error.message).toContain(message);
    });
  });

  describe("authentication", () => {
    it.for([
      ["no Authorization header", undefined, /needs your API token/],
      ["a non-Bearer header", "Basic Zm9vOmJhcg==", /Bearer/],
      ["an unknown token", "Bearer armor_abcdefgh_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", /not valid/],
      ["garbage", "Bearer nonsense", /not valid/],
    ] as const)("%s is 401 unauthorized", async ([, header, message], { expect }) => {
      const res = await sidecar.call(
        "GET",
        "/v1/tokens",
        header === undefined ? {} : { headers: { authorization: header } },
      );
      expectEnvelope(expect, res, 401, "unauthorized");
      expect(res.body.error.message).toMatch(message);
    });
  });

  describe("repositories", () => {
    it("registering makes the creator its admin, idempotently, with audit rows", async ({ expect }) => {
      const { account, token } = await accountWithToken(sidecar, { platformAdmin: true });
      const id = `${unique("org")}/tools`;
      const res = await sidecar.call("POST", "/v1/repositories", { token, body: { id } });
      expect(res.status).toBe(201);
      expect(res.body).toEqual({ id, created_at: expect.any(String), created_by: account });
      const again = await sidecar.call("POST", "/v1/repositories", { token, body: { id } });
      expect(again.status).toBe(200);
      expect(again.body).toEqual(res.body);
      const grants = await sidecar.call("GET", `/v1/grants?repository=${id}`, { token });
      expect(grants.body.grants).toEqual([{ repository: id, account, role: "admin", created_at: expect.any(String) }]);
      expect((await audit(id)).map((e) => [e.actor, e.action, e.subject])).toEqual([
        [account, "grant.set", `account:${account}`],
        [account, "repository.create", id],
      ]);
    });

    it("registering needs a platform admin", async ({ expect }) => {
      const { token } = await accountWithToken(sidecar);
      const res = await sidecar.call("POST", "/v1/repositories", { token, body: { id: `${unique("o")}/r` } });
      expectEnvelope(expect, res, 403, "forbidden");
    });

    it("the Worker's operator (signature, no token) registers without granting anyone", async ({ expect }) => {
      const id = `${unique("org")}/op`;
      const res = await sidecar.call("POST", "/v1/repositories", { body: { id } });
      expect(res.status).toBe(201);
      expect(res.body.created_by).toBeNull();
      const grants = await sidecar.call("GET", `/v1/grants?repository=${id}`, { token: sidecar.adminToken });
      expect(grants.body.grants).toEqual([]);
      expect((await audit(id)).map((e) => [e.actor, e.action])).toEqual([["(operator)", "repository.create"]]);
    });

    it("deleting drops every grant on it; its admin may, an uploader may not", async ({ expect }) => {
      const id = await repository(sidecar);
      const owner = await accountWithToken(sidecar);
      const helper = await accountWithToken(sidecar);
      await grant(sidecar, { repository: id, account: owner.account, role: "admin" });
      await grant(sidecar, { repository: id, token_id: helper.tokenId, role: "uploader" });
      const refused = await sidecar.call("DELETE", `/v1/repositories/${id}`, { token: helper.token });
      expectEnvelope(expect, refused, 403, "forbidden");
      expect(refused.body.error.message).toContain(`needs the admin role on ${id}`);
      expect(refused.body.error.message).toContain("has the uploader role");
      const res = await sidecar.call("DELETE", `/v1/repositories/${id}`, { token: owner.token });
      expect(res.status).toBe(200);
      // the bootstrap admin's grant from registering, the owner's and the helper's token grant
      expect(res.body).toEqual({ deleted: id, grants_removed: 3 });
      const left = await sidecar.db.query("SELECT 1 FROM grants WHERE repository = $1", [id]);
      expect(left).toEqual([]);
      const answer = await sidecar.call("POST", "/v1/authorize", {
        body: { token: owner.token, repository: id, action: "read" },
      });
      expect(answer.body).toMatchObject({ allowed: false, reason: "no_grant" });
      expect((await audit(id))[0]).toMatchObject({
        actor: owner.account,
        action: "repository.delete",
        details: { grants_removed: 3 },
      });
      const gone = await sidecar.call("DELETE", `/v1/repositories/${id}`, { token: sidecar.adminToken });
      expectEnvelope(expect, gone, 404, "not_found");
    });

    it("refuses a malformed id", async ({ expect }) => {
      const res = await sidecar.call("POST", "/v1/repositories", {
        token: sidecar.adminToken,
        body: { id: "no-slash" },
      });
      expectEnvelope(expect, res, 400, "invalid_request");
      expect(res.body.error.message).toContain("body.id");
    });
  });

  describe("grants", () => {
    it("are set, replaced and removed by the repository's admin, each change audited", async ({ expect }) => {
      const id = await repository(sidecar);
      const owner = await accountWithToken(sidecar);
      const dev = await accountWithToken(sidecar);
      await grant(sidecar, { repository: id, account: owner.account, role: "admin" });
      const set = await sidecar.call("POST", "/v1/grants", {
        token: owner.token,
        body: { repository: id, account: dev.account, role: "viewer" },
      });
      expect(set.status).toBe(201);
      expect(GrantSchema.parse(set.body)).toEqual({ repository: id, account: dev.account, role: "viewer" });
      const replaced = await sidecar.call("POST", "/v1/grants", {
        token: owner.token,
        body: { repository: id, account: dev.account, role: "uploader" },
      });
      expect(replaced.body.role).toBe("uploader");
      const listed = await sidecar.call("GET", `/v1/grants?repository=${id}`, { token: owner.token });
      expect(listed.body.grants.filter((g: { account?: string }) => g.account === dev.account)).toHaveLength(1);
      const wrongRole = await sidecar.call("DELETE", "/v1/grants", {
        token: owner.token,
        body: { repository: id, account: dev.account, role: "viewer" },
      });
      expectEnvelope(expect, wrongRole, 404, "not_found");
      const removed = await sidecar.call("DELETE", "/v1/grants", {
        token: owner.token,
        body: { repository: id, account: dev.account },
      });
      expect(removed).toEqual({ status: 204, body: null });
      const again = await sidecar.call("DELETE", "/v1/grants", {
        token: owner.token,
        body: { repository: id, account: dev.account },
      });
      expectEnvelope(expect, again, 404, "not_found");
      const entries = (await audit(id)).filter((e) => e.subject === `account:${dev.account}`);
      expect(entries.map((e) => [e.actor, e.action, e.details])).toEqual([
        [owner.account, "grant.delete", { role: "uploader" }],
        [owner.account, "grant.set", { role: "uploader", previous_role: "viewer" }],
        [owner.account, "grant.set", { role: "viewer", previous_role: null }],
      ]);
    });

    it("to a single token", async ({ expect }) => {
      const id = await repository(sidecar);
      const dev = await accountWithToken(sidecar);
      const res = await sidecar.call("POST", "/v1/grants", {
        token: sidecar.adminToken,
        body: { repository: id, token_id: dev.tokenId, role: "uploader" },
      });
      expect(res.status).toBe(201);
      expect(res.body).toEqual({
        repository: id,
        token_id: dev.tokenId,
        role: "uploader",
        created_at: expect.any(String),
      });
      expect((await audit(id))[0]).toMatchObject({ action: "grant.set", subject: `token:${dev.tokenId}` });
    });

    it.for(["viewer", "uploader"] as const)("a %s may not grant, revoke or list", async (role, { expect }) => {
      const id = await repository(sidecar);
      const dev = await accountWithToken(sidecar);
      await grant(sidecar, { repository: id, account: dev.account, role });
      const body = { repository: id, account: dev.account, role: "admin" };
      for (const res of [
        await sidecar.call("POST", "/v1/grants", { token: dev.token, body }),
        await sidecar.call("DELETE", "/v1/grants", { token: dev.token, body }),
        await sidecar.call("GET", `/v1/grants?repository=${id}`, { token: dev.token }),
      ]) {
        expectEnvelope(expect, res, 403, "forbidden");
        expect(res.body.error.message).toBe(
          `this needs the admin role on ${id}; ${dev.account} has the ${role} role there`,
        );
        expect(res.body.error.details).toEqual({ required_role: "admin", role });
      }
    });

    it.for([
      ["both account and token_id", { account: "admin", token_id: "x" }, 400, "invalid_request"],
      ["neither account nor token_id", {}, 400, "invalid_request"],
      ["an unknown account", { account: "nobody-at-all" }, 404, "not_found"],
      ["an unknown token", { token_id: "no-such-token" }, 404, "not_found"],
    ] as const)("refuse %s", async ([, who, status, code], { expect }) => {
      const id = await repository(sidecar);
      const res = await sidecar.call("POST", "/v1/grants", {
        token: sidecar.adminToken,
        body: { repository: id, role: "viewer", ...who },
      });
      expectEnvelope(expect, res, status, code);
    });

    it("on an unknown repository are not found (for platform admins) or forbidden", async ({ expect }) => {
      const id = `${unique("ghost")}/repo`;
      const dev = await accountWithToken(sidecar);
      const body = { repository: id, account: dev.account, role: "viewer" };
      expectEnvelope(
        expect,
        await sidecar.call("POST", "/v1/grants", { token: sidecar.adminToken, body }),
        404,
        "not_found",
      );
      expectEnvelope(expect, await sidecar.call("POST", "/v1/grants", { token: dev.token, body }), 403, "forbidden");
      const listed = await sidecar.call("GET", `/v1/grants?repository=${id}`, { token: sidecar.adminToken });
      expectEnvelope(expect, listed, 404, "not_found");
    });

    it("a refused change writes no audit row", async ({ expect }) => {
      const id = await repository(sidecar);
      const before = (await audit(id)).length;
      await sidecar.call("POST", "/v1/grants", {
        token: sidecar.adminToken,
        body: { repository: id, account: "nobody-at-all", role: "viewer" },
      });
      expect((await audit(id)).length).toBe(before);
    });
  });

  describe("audit", () => {
    it("is for platform admins, newest first, limited", async ({ expect }) => {
      const { token } = await accountWithToken(sidecar);
      expectEnvelope(expect, await sidecar.call("GET", "/v1/audit", { token }), 403, "forbidden");
      const res = await sidecar.call("GET", "/v1/audit?limit=2", { token: sidecar.adminToken });
      expect(res.body.entries).toHaveLength(2);
      const [a, b] = res.body.entries;
      expect(BigInt(a.id) > BigInt(b.id)).toBe(true);
      expect(a).toEqual({
        id: expect.stringMatching(/^\d+$/),
        at: expect.any(String),
        actor: expect.any(String),
        action: expect.any(String),
        repository: null,
        subject: expect.any(String),
        details: expect.any(Object),
      });
    });

    it("begins with the bootstrap", async ({ expect }) => {
      const all = await sidecar.call("GET", "/v1/audit?limit=1000", { token: sidecar.adminToken });
      const first = all.body.entries.slice(-2).reverse();
      expect(first.map((e: { actor: string; action: string }) => [e.actor, e.action])).toEqual([
        ["(system)", "account.create"],
        ["(system)", "token.create"],
      ]);
    });

    it.for(["limit=0", "limit=1001", "limit=ten", "repository=nope"])("refuses ?%s", async (q, { expect }) => {
      const res = await sidecar.call("GET", `/v1/audit?${q}`, { token: sidecar.adminToken });
      expectEnvelope(expect, res, 400, "invalid_request");
      expect(res.body.error.message).toMatch(/^query\./);
    });
  });

  describe("errors", () => {
    it("an unknown route is a 404 envelope", async ({ expect }) => {
      expectEnvelope(expect, await sidecar.call("GET", "/v1/nothing-here"), 404, "not_found");
      expectEnvelope(expect, await sidecar.call("GET", "/nothing"), 404, "not_found");
    });

    it("a body that is not JSON is invalid_request", async ({ expect }) => {
      const res = await sidecar.call("POST", "/v1/authorize", { rawBody: "{not json" });
      expectEnvelope(expect, res, 400, "invalid_request");
      expect(res.body.error.message).toBe("the request body must be JSON");
    });

    it("an empty body is an empty object: the fields are missing", async ({ expect }) => {
      const res = await sidecar.call("POST", "/v1/tokens", { token: sidecar.adminToken });
      expectEnvelope(expect, res, 400, "invalid_request");
      expect(res.body.error).toEqual({
        code: "invalid_request",
        message: "body.name: is required",
        details: { field: "body.name" },
      });
    });

    it("a body that is JSON but not an object names the body", async ({ expect }) => {
      const res = await sidecar.call("POST", "/v1/accounts", { token: sidecar.adminToken, rawBody: "[1,2]" });
      expectEnvelope(expect, res, 400, "invalid_request");
      expect(res.body.error.message).toBe("body: must be an object");
    });
  });
});

function expect200(res: Reply): void {
  if (res.status !== 200) throw new Error(`expected 200, got ${res.status}: ${JSON.stringify(res.body)}`);
}
