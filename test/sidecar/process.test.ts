import { afterAll, beforeAll, describe, it } from "vitest";
import { AuthorizeResponseSchema, SIGNATURE_HEADER, TIMESTAMP_HEADER } from "../../schema/sidecar.ts";
import { BOOTSTRAP_LINE } from "../../sidecar/bootstrap.ts";
import { sign } from "../../sidecar/middleware/signature.ts";
import { generateToken } from "../../sidecar/tokens.ts";
import { runSidecarProcess, startSidecarProcess } from "../helpers/sidecar-process.ts";
import { BACKENDS, freshDatabase, TEST_SECRET, type TestDatabase } from "./harness.ts";

/** A signed request over real HTTP, as the Worker sends it. */
async function signed(url: string, method: string, path: string, body: unknown, bearer?: string): Promise<Response> {
  const text = body === undefined ? "" : JSON.stringify(body);
  const timestamp = String(Math.floor(Date.now() / 1000));
  const headers: Record<string, string> = {
    [TIMESTAMP_HEADER]: timestamp,
    [SIGNATURE_HEADER]: sign(TEST_SECRET, timestamp, method, path, text),
    "content-type": "application/json",
  };
  if (bearer !== undefined) headers.authorization = `Bearer ${bearer}`;
  return fetch(`${url}${path}`, { method, headers, ...(text === "" ? {} : { body: text }) });
}

describe.for(BACKENDS)("node sidecar/main.ts on %s", (backend) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await freshDatabase(backend);
    // The process opens the database itself; the harness keeps only the means to drop it.
    await database.db.close();
  });
  afterAll(() => database.close());

  it("migrates, prints the admin token once, serves, and never prints the token again", async ({ expect }) => {
    const env = { ...database.env, ARMOR_SIDECAR_SECRET: TEST_SECRET };
    const first = await startSidecarProcess(env);
    try {
      expect(first.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(first.bootstrapToken).toMatch(/^armor_[a-z2-7]{8}_[A-Za-z0-9_-]{43}$/);
      expect(first.output().stdout).toContain("applied migrations 1");

      const health = await fetch(`${first.url}/healthz`);
      expect(health.status).toBe(200);
      expect(await health.json()).toEqual({ ok: true });

      const token = first.bootstrapToken ?? "";
      const res = await signed(first.url, "POST", "/v1/authorize", { token, repository: null, action: "admin" });
      expect(res.status).toBe(200);
      expect(AuthorizeResponseSchema.parse(await res.json())).toMatchObject({
        allowed: true,
        principal: { account: "admin", platform_admin: true },
      });
      const unsigned = await fetch(`${first.url}/v1/authorize`, { method: "POST", body: "{}" });
      expect(unsigned.status).toBe(401);
      expect(await unsigned.json()).toMatchObject({ error: { code: "bad_signature" } });
    } finally {
      expect(await first.stop()).toBe(0);
    }

    const second = await startSidecarProcess(env);
    try {
      expect(second.bootstrapToken).toBeNull();
      expect(second.output().stdout).not.toMatch(/armor_[a-z2-7]{8}_/);
      expect(second.output().stdout).not.toContain("applied migrations");
      const token = first.bootstrapToken ?? "";
      const res = await signed(second.url, "GET", "/v1/tokens", undefined, token);
      expect(res.status).toBe(200);
      expect((await res.json()).tokens).toHaveLength(1);
    } finally {
      expect(await second.stop()).toBe(0);
    }
  });
});

describe("sidecar start-up", () => {
  it.for([
    ["no secret", {}],
    ["a short secret", { ARMOR_SIDECAR_SECRET: "too-short" }],
  ] as const)("refuses to start with %s", async ([, env], { expect }) => {
    const ran = await runSidecarProcess({ ...env, ARMOR_DATA_DIR: "/nonexistent/never-created" });
    expect(ran.code).toBe(1);
    expect(ran.stderr).toContain("ARMOR_SIDECAR_SECRET must be set");
    expect(ran.stdout).not.toContain("listening");
  });

  it("refuses a bootstrap token that is not shaped like a token", async ({ expect }) => {
    const ran = await runSidecarProcess({ ARMOR_SIDECAR_SECRET: TEST_SECRET, ARMOR_BOOTSTRAP_TOKEN: "hunter2" });
    expect(ran.code).toBe(1);
    expect(ran.stderr).toContain("ARMOR_BOOTSTRAP_TOKEN must look like");
  });

  it("uses ARMOR_BOOTSTRAP_TOKEN as the first admin token", async ({ expect }) => {
    const database = await freshDatabase("pglite");
    await database.db.close();
    const given = generateToken().token;
    const sidecar = await startSidecarProcess({
      ...database.env,
      ARMOR_SIDECAR_SECRET: TEST_SECRET,
      ARMOR_BOOTSTRAP_TOKEN: given,
    });
    try {
      expect(BOOTSTRAP_LINE.exec(sidecar.output().stdout)?.[1]).toBe(given);
      const res = await signed(sidecar.url, "GET", "/v1/accounts", undefined, given);
      expect(res.status).toBe(200);
    } finally {
      await sidecar.stop();
      await database.close();
    }
  });
});
