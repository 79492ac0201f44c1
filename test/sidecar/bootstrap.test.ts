import { afterEach, beforeEach, describe, it } from "vitest";
import { BOOTSTRAP_LINE, bootstrap, bootstrapLine } from "../../sidecar/bootstrap.ts";
import { migrate } from "../../sidecar/migrate.ts";
import { generateToken, hashToken } from "../../sidecar/tokens.ts";
import { BACKENDS, freshDatabase, type TestDatabase } from "./harness.ts";

describe("the bootstrap line", () => {
  it("is found in output and gives the token", ({ expect }) => {
    const token = generateToken().token;
    const output = `armor sidecar database: PGlite in /tmp/x\n${bootstrapLine(token)}\narmor sidecar listening on http://127.0.0.1:1\n`;
    expect(BOOTSTRAP_LINE.exec(output)?.[1]).toBe(token);
    expect(bootstrapLine(token)).toMatch(/shown only this once/);
  });
});

describe.for(BACKENDS)("bootstrap on %s", (backend) => {
  // A fresh database per test: bootstrap is about the empty database.
  let database: TestDatabase;
  beforeEach(async () => {
    database = await freshDatabase(backend);
    await migrate(database.db);
  });
  afterEach(() => database.close());

  it("creates the platform admin account and one token, once", async ({ expect }) => {
    const [a, b] = await Promise.all([bootstrap(database.db), bootstrap(database.db)]);
    const tokens = [a, b].filter((t) => t !== null);
    expect(tokens).toHaveLength(1);
    expect(await bootstrap(database.db)).toBeNull();
    const accounts = await database.db.query("SELECT name, platform_admin FROM accounts");
    expect(accounts).toEqual([{ name: "admin", platform_admin: true }]);
    const stored = await database.db.query<{ name: string; hash: string }>("SELECT name, hash FROM api_tokens");
    expect(stored).toEqual([{ name: "bootstrap", hash: hashToken(tokens[0] ?? "") }]);
    const audit = await database.db.query<{ actor: string; action: string }>(
      "SELECT actor, action FROM audit_log ORDER BY id",
    );
    expect(audit).toEqual([
      { actor: "(system)", action: "account.create" },
      { actor: "(system)", action: "token.create" },
    ]);
  });

  it("uses the given token instead of a random one", async ({ expect }) => {
    const given = generateToken().token;
    expect(await bootstrap(database.db, given)).toBe(given);
    const stored = await database.db.query<{ hash: string }>("SELECT hash FROM api_tokens");
    expect(stored).toEqual([{ hash: hashToken(given) }]);
  });

  it("does nothing on a database that has accounts, even with a given token", async ({ expect }) => {
    await database.db.query("INSERT INTO accounts (name) VALUES ('someone')");
    expect(await bootstrap(database.db, generateToken().token)).toBeNull();
    expect(await database.db.query("SELECT 1 FROM api_tokens")).toEqual([]);
  });
});
