import { afterAll, beforeAll, describe, it } from "vitest";
import { type Action, AuthorizeResponseSchema, type Role } from "../../schema/sidecar.ts";
import { accountWithToken, BACKENDS, grant, repository, type Sidecar, startSidecar, unique } from "./harness.ts";

const ROLES = [null, "viewer", "uploader", "admin"] as const satisfies readonly (Role | null)[];
const ACTIONS = ["read", "write", "admin"] as const satisfies readonly Action[];

/** What each role may do: viewer reads, uploader also writes, admin also administers. */
const MAY: Record<string, readonly Action[]> = {
  none: [],
  viewer: ["read"],
  uploader: ["read", "write"],
  admin: ["read", "write", "admin"],
};

const CASES = ROLES.flatMap((role) =>
  ACTIONS.map((action) => [role, action, MAY[role ?? "none"]?.includes(action) ?? false] as const),
);

describe.for(BACKENDS)("POST /v1/authorize on %s", (backend) => {
  let sidecar: Sidecar;
  beforeAll(async () => {
    sidecar = await startSidecar(backend);
  });
  afterAll(() => sidecar.close());

  async function authorize(token: string, repo: string | null, action: Action) {
    const res = await sidecar.call("POST", "/v1/authorize", { body: { token, repository: repo, action } });
    if (res.status !== 200) throw new Error(`authorize answered ${res.status}: ${JSON.stringify(res.body)}`);
    return AuthorizeResponseSchema.parse(res.body);
  }

  it.for(CASES)("an account grant of %s, asked to %s → allowed %s", async ([role, action, allowed], { expect }) => {
    const repo = await repository(sidecar);
    const { account, token, tokenId } = await accountWithToken(sidecar);
    if (role !== null) await grant(sidecar, { repository: repo, account, role });
    const answer = await authorize(token, repo, action);
    expect(answer).toEqual({
      allowed,
      principal: { account, token_id: tokenId, platform_admin: false },
      role,
      reason: allowed ? null : role === null ? "no_grant" : "insufficient_role",
      required_role: { read: "viewer", write: "uploader", admin: "admin" }[action],
    });
  });

  it.for(CASES)("a token grant of %s, asked to %s → allowed %s", async ([role, action, allowed], { expect }) => {
    const repo = await repository(sidecar);
    const { token, tokenId } = await accountWithToken(sidecar);
    if (role !== null) await grant(sidecar, { repository: repo, token_id: tokenId, role });
    const answer = await authorize(token, repo, action);
    expect(answer.allowed).toBe(allowed);
    expect(answer.role).toBe(role);
  });

  it.for([
    ["viewer", "uploader", "uploader"],
    ["uploader", "viewer", "uploader"],
    ["admin", "viewer", "admin"],
    ["viewer", "admin", "admin"],
  ] as const)(
    "account %s and token %s: the token holds the higher, %s",
    async ([accountRole, tokenRole, expected], { expect }) => {
      const repo = await repository(sidecar);
      const { account, token, tokenId } = await accountWithToken(sidecar);
      await grant(sidecar, { repository: repo, account, role: accountRole });
      await grant(sidecar, { repository: repo, token_id: tokenId, role: tokenRole });
      expect((await authorize(token, repo, "read")).role).toBe(expected);
    },
  );

  it("a token's own grant is its alone: the account's other tokens do not get it", async ({ expect }) => {
    const repo = await repository(sidecar);
    const { account, token, tokenId } = await accountWithToken(sidecar);
    await grant(sidecar, { repository: repo, token_id: tokenId, role: "uploader" });
    const other = await sidecar.call("POST", "/v1/tokens", {
      token: sidecar.adminToken,
      body: { name: "other", account },
    });
    expect((await authorize(token, repo, "write")).allowed).toBe(true);
    expect(await authorize(other.body.token, repo, "read")).toMatchObject({ allowed: false, reason: "no_grant" });
  });

  it("a token of repository A cannot touch repository B", async ({ expect }) => {
    const a = await repository(sidecar);
    const b = await repository(sidecar);
    const { token, tokenId } = await accountWithToken(sidecar);
    await grant(sidecar, { repository: a, token_id: tokenId, role: "admin" });
    expect((await authorize(token, a, "admin")).allowed).toBe(true);
    for (const action of ACTIONS) {
      expect(await authorize(token, b, action)).toMatchObject({ allowed: false, role: null, reason: "no_grant" });
    }
  });

  it("an account grant on A does not reach B either", async ({ expect }) => {
    const a = await repository(sidecar);
    const b = await repository(sidecar);
    const { account, token } = await accountWithToken(sidecar);
    await grant(sidecar, { repository: a, account, role: "admin" });
    expect(await authorize(token, b, "read")).toMatchObject({ allowed: false, reason: "no_grant" });
  });

  it.for(ACTIONS)("a platform admin may %s on every repository, known or not", async (action, { expect }) => {
    const { account, token, tokenId } = await accountWithToken(sidecar, { platformAdmin: true });
    for (const repo of [await repository(sidecar), `${unique("unknown")}/repo`]) {
      expect(await authorize(token, repo, action)).toEqual({
        allowed: true,
        principal: { account, token_id: tokenId, platform_admin: true },
        role: "admin",
        reason: null,
        required_role: { read: "viewer", write: "uploader", admin: "admin" }[action],
      });
    }
  });

  it.for(ACTIONS)("platform-level %s (repository null) is for platform admins only", async (action, { expect }) => {
    const admin = await accountWithToken(sidecar, { platformAdmin: true });
    const user = await accountWithToken(sidecar);
    // Even an admin of every repository it has is not a platform admin.
    await grant(sidecar, { repository: await repository(sidecar), account: user.account, role: "admin" });
    expect(await authorize(admin.token, null, action)).toMatchObject({ allowed: true, role: "admin" });
    expect(await authorize(user.token, null, action)).toMatchObject({
      allowed: false,
      role: null,
      reason: "insufficient_role",
      required_role: "admin",
    });
  });

  it("a revoked token is refused at once", async ({ expect }) => {
    const repo = await repository(sidecar);
    const { account, token, tokenId } = await accountWithToken(sidecar);
    await grant(sidecar, { repository: repo, account, role: "admin" });
    expect((await authorize(token, repo, "read")).allowed).toBe(true);
    const revoked = await sidecar.call("DELETE", `/v1/tokens/${tokenId}`, { token });
    expect(revoked.status).toBe(200);
    expect(await authorize(token, repo, "read")).toEqual({
      allowed: false,
      principal: null,
      role: null,
      reason: "revoked",
      required_role: "viewer",
    });
  });

  it("an expired token is refused at once", async ({ expect }) => {
    const repo = await repository(sidecar);
    const { account, token, tokenId } = await accountWithToken(sidecar);
    await grant(sidecar, { repository: repo, account, role: "admin" });
    expect((await authorize(token, repo, "read")).allowed).toBe(true);
    await sidecar.db.query("UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE id = $1", [tokenId]);
    expect(await authorize(token, repo, "read")).toMatchObject({ allowed: false, principal: null, reason: "expired" });
  });

  it.for([
    ["an unknown token", "armor_abcdefgh_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"],
    ["a malformed token", "not-a-token"],
    ["a token whose prefix is real but secret wrong", "REAL_PREFIX"],
  ] as const)("%s is unknown_token", async ([, given], { expect }) => {
    const { token } = await accountWithToken(sidecar);
    const text = given === "REAL_PREFIX" ? `${token.slice(0, 15)}${"B".repeat(43)}` : given;
    expect(await authorize(text, await repository(sidecar), "read")).toEqual({
      allowed: false,
      principal: null,
      role: null,
      reason: "unknown_token",
      required_role: "viewer",
    });
  });

  it("records when a token was last used", async ({ expect }) => {
    const { token, tokenId } = await accountWithToken(sidecar);
    const before = await sidecar.db.query<{ last_used_at: Date | null }>(
      "SELECT last_used_at FROM api_tokens WHERE id = $1",
      [tokenId],
    );
    expect(before[0]?.last_used_at).toBeNull();
    await authorize(token, await repository(sidecar), "read");
    const after = await sidecar.db.query<{ last_used_at: Date | null }>(
      "SELECT last_used_at FROM api_tokens WHERE id = $1",
      [tokenId],
    );
    expect(after[0]?.last_used_at).toBeInstanceOf(Date);
  });

  it.for([
    [{ token: "t", repository: "acme/tools", action: "delete" }, "body.action"],
    [{ token: "t", repository: "Not A Repo", action: "read" }, "body.repository"],
    [{ repository: "acme/tools", action: "read" }, "body.token: is required"],
    [{ token: "", repository: null, action: "read" }, "body.token"],
  ] as const)("refuses %j with invalid_request naming the field", async ([body, field], { expect }) => {
    const res = await sidecar.call("POST", "/v1/authorize", { body });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("invalid_request");
    expect(res.body.error.message).toContain(field);
  });
});
