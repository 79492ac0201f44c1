/**
 * `armor account|token|access` through the Worker to a real sidecar, and what the tokens they make
 * may then do with the other commands.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, inject, it } from "vitest";
import { type LocalStack, type SidecarProcess, startLocalStack, startSidecar } from "../helpers/local-stack.ts";
import { armor, writeDeb } from "./armor.ts";

let sidecar: SidecarProcess;
let stack: LocalStack;
let work: string;

beforeAll(async () => {
  sidecar = await startSidecar();
  stack = await startLocalStack({ sidecar, authCacheSeconds: 0 });
  work = mkdtempSync(join(tmpdir(), "armor-access-"));
}, 60_000);

afterAll(async () => {
  await stack?.close();
  if (work) rmSync(work, { recursive: true, force: true });
  await sidecar?.stop();
});

const as = (token: string) => ({ ARMOR_ENDPOINT: stack.endpoint, ARMOR_TOKEN: token });

describe("accounts, tokens and grants from the CLI", () => {
  it("creates an account and a token, grants a role, and the token can do just that", async ({ expect }) => {
    const admin = as(sidecar.adminToken);
    expect((await armor(["repo", "create", "acme/shared", "--private"], admin)).code).toBe(0);
    const pub = join(work, "key.asc");
    writeFileSync(pub, inject("keys").trusted.public);
    expect((await armor(["key", "add", "--repository", "acme/shared", pub], admin)).code).toBe(0);

    const account = await armor(["account", "create", "ci-bot"], admin);
    expect(account.stdout).toBe("created account ci-bot\n");
    const created = await armor(
      ["token", "create", "--account", "ci-bot", "--name", "github-actions", "--json"],
      admin,
    );
    expect(created.code, created.stderr).toBe(0);
    const token = JSON.parse(created.stdout) as { id: string; token: string; prefix: string };
    expect(token.token.startsWith(`${token.prefix}_`)).toBe(true);

    const bot = as(token.token);
    const deb = writeDeb(work, "bot-pkg", "1.0");
    const refused = await armor(["pkgs", "add", "--repository", "acme/shared", "--dist", "stable", deb], bot);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(
      "needs the uploader role on acme/shared; ci-bot has no role (forbidden, HTTP 403)",
    );

    const granted = await armor(
      ["access", "grant", "--repository", "acme/shared", "--account", "ci-bot", "--role", "uploader"],
      admin,
    );
    expect(granted.stdout).toBe("granted uploader on acme/shared to ci-bot\n");
    const listed = await armor(["access", "list", "--repository", "acme/shared", "--json"], admin);
    expect(JSON.parse(listed.stdout).grants).toContainEqual(
      expect.objectContaining({ account: "ci-bot", role: "uploader" }),
    );

    expect((await armor(["pkgs", "add", "--repository", "acme/shared", "--dist", "stable", deb], bot)).code).toBe(0);
    const secret = join(work, "key.sec.asc");
    writeFileSync(secret, inject("keys").trusted.secret);
    const published = await armor(
      ["publish", "--repository", "acme/shared", "--dist", "stable", "--key-file", secret],
      bot,
    );
    expect(published.code, published.stderr).toBe(0);
    // An uploader may publish, but not manage keys or roll back.
    const keys = await armor(["key", "add", "--repository", "acme/shared", pub], bot);
    expect(keys.stderr).toContain("needs the admin role on acme/shared; ci-bot has the uploader role");

    const mine = await armor(["token", "list", "--json"], bot);
    expect(JSON.parse(mine.stdout).tokens.map((t: { id: string }) => t.id)).toEqual([token.id]);
    expect((await armor(["token", "revoke", token.id], admin)).stdout).toContain(`revoked ${token.id}`);
    const after = await armor(["pkgs", "list", "--repository", "acme/shared"], bot);
    expect(after.code).toBe(1);
    expect(after.stderr).toContain("this token was revoked");
    const revokedAccess = await armor(
      ["access", "revoke", "--repository", "acme/shared", "--account", "ci-bot"],
      admin,
    );
    expect(revokedAccess.code).toBe(0);
  });

  it("checks a token at login, shows it with whoami, and forgets it at logout", async ({ expect }) => {
    const admin = as(sidecar.adminToken);
    expect((await armor(["repo", "create", "acme/whoami", "--private"], admin)).code).toBe(0);
    expect((await armor(["account", "create", "whoami-bot"], admin)).code).toBe(0);
    const created = await armor(["token", "create", "--account", "whoami-bot", "--name", "laptop", "--json"], admin);
    const { token } = JSON.parse(created.stdout) as { token: string };
    expect(
      (
        await armor(
          ["access", "grant", "--repository", "acme/whoami", "--account", "whoami-bot", "--role", "viewer"],
          admin,
        )
      ).code,
    ).toBe(0);

    const xdg = mkdtempSync(join(work, "login-"));
    const config = join(xdg, "armor", "config.toml");
    // A token the platform does not know is refused, and nothing is stored.
    const wrong = await armor(
      ["login", "--endpoint", stack.endpoint, "--with-token"],
      { XDG_CONFIG_HOME: xdg },
      "armor_nothing_notatoken\n",
    );
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain("(unauthorized, HTTP 401)");
    expect(existsSync(config)).toBe(false);

    const login = await armor(
      ["login", "--endpoint", stack.endpoint, "--with-token"],
      { XDG_CONFIG_HOME: xdg },
      `${token}\n`,
    );
    expect(login.code, login.stderr).toBe(0);
    expect(login.stdout).toContain("as whoami-bot");
    const who = await armor(["whoami", "--json"], { XDG_CONFIG_HOME: xdg });
    expect(who.code, who.stderr).toBe(0);
    expect(JSON.parse(who.stdout)).toMatchObject({
      kind: "token",
      account: "whoami-bot",
      platform_admin: false,
      token: { name: "laptop" },
      grants: [{ repository: "acme/whoami", role: "viewer", via: "account" }],
    });
    const text = await armor(["whoami"], { XDG_CONFIG_HOME: xdg });
    expect(text.stdout).toContain("whoami-bot at ");
    expect(text.stdout).toMatch(/acme\/whoami\s+viewer\s+account/);

    const logout = await armor(["logout"], { XDG_CONFIG_HOME: xdg });
    expect(logout.code).toBe(0);
    expect(readFileSync(config, "utf8")).not.toContain(token);
    expect(readFileSync(config, "utf8")).toContain(`endpoint = "${stack.endpoint}"`);
    const after = await armor(["whoami"], { XDG_CONFIG_HOME: xdg });
    expect(after.code).toBe(1);
    expect(after.stderr).toContain("no API token configured");

    const operator = await armor(["whoami", "--json"], as(stack.token));
    expect(JSON.parse(operator.stdout)).toMatchObject({ kind: "operator", platform_admin: true });
  });

  it("says when accounts are not enabled", async ({ expect }) => {
    const bare = await startLocalStack();
    try {
      const r = await armor(["token", "list"], { ARMOR_ENDPOINT: bare.endpoint, ARMOR_TOKEN: bare.token });
      expect(r.code).toBe(3);
      expect(r.stderr).toContain("accounts are not enabled on this deployment");
    } finally {
      await bare.close();
    }
  });
});
