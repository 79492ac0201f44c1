/**
 * `armor account|token|access` through the Worker to a real sidecar, and what the tokens they make
 * may then do with the other commands.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
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
