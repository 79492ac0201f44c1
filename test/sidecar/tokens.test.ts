import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, it } from "vitest";
import { CreatedTokenSchema, TokenSchema } from "../../schema/sidecar.ts";
import { generateToken, hashesEqual, hashToken, prefixOf, tokenFrom } from "../../sidecar/tokens.ts";
import { accountWithToken, BACKENDS, type Sidecar, startSidecar, unique } from "./harness.ts";

describe("token format", () => {
  it("is armor_<8 base32>_<43 base64url>, with its SHA-256 as the stored hash", ({ expect }) => {
    const t = generateToken();
    expect(t.token).toMatch(/^armor_[a-z2-7]{8}_[A-Za-z0-9_-]{43}$/);
    expect(t.token.startsWith(`armor_${t.prefix}_`)).toBe(true);
    expect(t.hash).toBe(createHash("sha256").update(t.token).digest("hex"));
    expect(prefixOf(t.token)).toBe(t.prefix);
  });

  it("never repeats", ({ expect }) => {
    const tokens = new Set(Array.from({ length: 1000 }, () => generateToken().token));
    expect(tokens.size).toBe(1000);
  });

  it.for([
    "",
    "armor_",
    "armor_abcdefgh",
    "armor_abcdefgh_short",
    "armor_ABCDEFGH_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    "armor_abcdefg1_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    "xarmor_abcdefgh_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    "armor_abcdefgh_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA A",
  ])("rejects %j", (text, { expect }) => {
    expect(prefixOf(text)).toBeNull();
    expect(tokenFrom(text)).toBeNull();
  });

  it("compares hashes exactly", ({ expect }) => {
    const a = hashToken("a");
    expect(hashesEqual(a, hashToken("a"))).toBe(true);
    expect(hashesEqual(a, hashToken("b"))).toBe(false);
    expect(hashesEqual(a, "")).toBe(false);
  });
});

describe.for(BACKENDS)("tokens on %s", (backend) => {
  let sidecar: Sidecar;
  beforeAll(async () => {
    sidecar = await startSidecar(backend);
  });
  afterAll(() => sidecar.close());

  /** Every row of every table, as text: where a leaked token would show. */
  async function everything(): Promise<string> {
    const tables = ["accounts", "api_tokens", "repositories", "grants", "audit_log", "schema_migrations"];
    const rows: string[] = [];
    for (const table of tables) {
      const found = await sidecar.db.query<{ row: string }>(`SELECT (t.*)::text AS row FROM ${table} t`);
      rows.push(...found.map((r) => r.row));
    }
    return rows.join("\n");
  }

  it("are shown once on creation and stored only as a hash", async ({ expect }) => {
    const { account, token: callerToken } = await accountWithToken(sidecar);
    const res = await sidecar.call("POST", "/v1/tokens", { token: callerToken, body: { name: "ci" } });
    expect(res.status).toBe(201);
    const created = CreatedTokenSchema.parse(res.body);
    expect(created).toMatchObject({ account, name: "ci", expires_at: null, last_used_at: null, revoked_at: null });
    expect(created.token.startsWith(`${created.prefix}_`)).toBe(true);

    const listed = await sidecar.call("GET", "/v1/tokens", { token: callerToken });
    expect(listed.status).toBe(200);
    const mine = listed.body.tokens.find((t: { id: string }) => t.id === created.id);
    expect(TokenSchema.strict().parse(mine)).toEqual({ ...created, token: undefined, last_used_at: null });
    expect(JSON.stringify(listed.body)).not.toContain(created.token.slice(15));

    const stored = await sidecar.db.query<{ hash: string }>("SELECT hash FROM api_tokens WHERE id = $1", [created.id]);
    expect(stored[0]?.hash).toBe(createHash("sha256").update(created.token).digest("hex"));
    const all = await everything();
    expect(all).not.toContain(created.token);
    expect(all).not.toContain(created.token.slice(15));
    expect(all).not.toContain(sidecar.adminToken.slice(15));
  });

  it("the new token works at once", async ({ expect }) => {
    const { token } = await accountWithToken(sidecar);
    const res = await sidecar.call("POST", "/v1/tokens", { token, body: { name: "second" } });
    const listed = await sidecar.call("GET", "/v1/tokens", { token: res.body.token });
    expect(listed.status).toBe(200);
    expect(listed.body.tokens).toHaveLength(2);
  });

  it("expire after expires_in_days", async ({ expect }) => {
    const { token } = await accountWithToken(sidecar);
    const res = await sidecar.call("POST", "/v1/tokens", { token, body: { name: "short", expires_in_days: 7 } });
    expect(res.status).toBe(201);
    const expires = Date.parse(res.body.expires_at) - Date.parse(res.body.created_at);
    expect(expires).toBe(7 * 24 * 3600 * 1000);
  });

  it("list the caller's own tokens only, and other accounts' only for platform admins", async ({ expect }) => {
    const alice = await accountWithToken(sidecar);
    const bob = await accountWithToken(sidecar);
    const own = await sidecar.call("GET", "/v1/tokens", { token: alice.token });
    expect(own.body.tokens.map((t: { account: string }) => t.account)).toEqual([alice.account]);
    const nosy = await sidecar.call("GET", `/v1/tokens?account=${bob.account}`, { token: alice.token });
    expect(nosy.status).toBe(403);
    expect(nosy.body.error).toMatchObject({ code: "forbidden", message: expect.stringContaining("platform admin") });
    const admin = await sidecar.call("GET", `/v1/tokens?account=${bob.account}`, { token: sidecar.adminToken });
    expect(admin.body.tokens.map((t: { id: string }) => t.id)).toEqual([bob.tokenId]);
  });

  it("are created for another account by platform admins only", async ({ expect }) => {
    const alice = await accountWithToken(sidecar);
    const bob = await accountWithToken(sidecar);
    const res = await sidecar.call("POST", "/v1/tokens", {
      token: alice.token,
      body: { name: "sneaky", account: bob.account },
    });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe("forbidden");
    const missing = await sidecar.call("POST", "/v1/tokens", {
      token: sidecar.adminToken,
      body: { name: "x", account: unique("nobody") },
    });
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe("not_found");
  });

  it.for([
    [{}, "body.name: is required"],
    [{ name: "" }, "body.name"],
    [{ name: "x", expires_in_days: 0 }, "body.expires_in_days"],
    [{ name: "x", expires_in_days: 1.5 }, "body.expires_in_days"],
    [{ name: 5 }, "body.name: must be a string"],
  ] as const)("refuse %j naming the field", async ([body, field], { expect }) => {
    const res = await sidecar.call("POST", "/v1/tokens", { token: sidecar.adminToken, body });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("invalid_request");
    expect(res.body.error.message).toContain(field);
  });

  it("revoke: the token stops working at once, and revoking again changes nothing", async ({ expect }) => {
    const { token, tokenId } = await accountWithToken(sidecar);
    const res = await sidecar.call("DELETE", `/v1/tokens/${tokenId}`, { token });
    expect(res.status).toBe(200);
    const revoked = TokenSchema.parse(res.body);
    expect(revoked.revoked_at).not.toBeNull();
    const again = await sidecar.call("DELETE", `/v1/tokens/${tokenId}`, { token: sidecar.adminToken });
    expect(again.body.revoked_at).toBe(revoked.revoked_at);
    const used = await sidecar.call("GET", "/v1/tokens", { token });
    expect(used.status).toBe(401);
    expect(used.body.error).toMatchObject({ code: "unauthorized", message: expect.stringContaining("revoked") });
  });

  it("revoke: another account's token is not found, except for platform admins", async ({ expect }) => {
    const alice = await accountWithToken(sidecar);
    const bob = await accountWithToken(sidecar);
    const res = await sidecar.call("DELETE", `/v1/tokens/${bob.tokenId}`, { token: alice.token });
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe("not_found");
    const missing = await sidecar.call("DELETE", "/v1/tokens/no-such-id", { token: alice.token });
    expect(missing.status).toBe(404);
    const admin = await sidecar.call("DELETE", `/v1/tokens/${bob.tokenId}`, { token: sidecar.adminToken });
    expect(admin.status).toBe(200);
    expect(admin.body.account).toBe(bob.account);
  });

  it("an expired token is refused by the management endpoints too", async ({ expect }) => {
    const { token, tokenId } = await accountWithToken(sidecar);
    await sidecar.db.query("UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE id = $1", [tokenId]);
    const res = await sidecar.call("GET", "/v1/tokens", { token });
    expect(res.status).toBe(401);
    expect(res.body.error).toMatchObject({
      code: "unauthorized",
      message: expect.stringContaining("expired"),
      details: { reason: "expired" },
    });
  });
});
