import { createHmac } from "node:crypto";
import { afterAll, beforeAll, describe, it } from "vitest";
import { REPLAY_WINDOW_SECONDS, signedPayload } from "../../schema/sidecar.ts";
import { sign } from "../../sidecar/middleware/signature.ts";
import { BACKENDS, type Sidecar, startSidecar, TEST_SECRET } from "./harness.ts";

describe("sign", () => {
  it("is hex HMAC-SHA256 over the contract's payload", ({ expect }) => {
    const expected = createHmac("sha256", TEST_SECRET).update("1700000000\nPOST\n/v1/authorize?x=1\n{}").digest("hex");
    expect(sign(TEST_SECRET, "1700000000", "post", "/v1/authorize?x=1", "{}")).toBe(expected);
    expect(signedPayload("1700000000", "post", "/v1/authorize?x=1", "{}")).toBe(
      "1700000000\nPOST\n/v1/authorize?x=1\n{}",
    );
  });
});

describe.for(BACKENDS)("request signatures on %s", (backend) => {
  let sidecar: Sidecar;
  beforeAll(async () => {
    sidecar = await startSidecar(backend);
  });
  afterAll(() => sidecar.close());

  const now = () => Math.floor(Date.now() / 1000);
  const body = () => ({ token: sidecar.adminToken, repository: null, action: "admin" });

  it("a well-signed request is answered", async ({ expect }) => {
    const res = await sidecar.call("POST", "/v1/authorize", { body: body() });
    expect(res.status).toBe(200);
    expect(res.body.allowed).toBe(true);
  });

  it("the same signed request twice within the window is answered twice (the Worker may repeat itself)", async ({
    expect,
  }) => {
    const timestamp = now();
    const first = await sidecar.call("POST", "/v1/authorize", { body: body(), timestamp });
    const second = await sidecar.call("POST", "/v1/authorize", { body: body(), timestamp });
    expect([first.status, second.status]).toEqual([200, 200]);
  });

  it.for([
    ["no signature", { signature: null }, /must be signed/],
    ["no timestamp", { headers: { "x-armor-timestamp": "" } }, /unix time/],
    ["a wrong signature", { signature: "0".repeat(64) }, /does not match/],
    ["a signature that is not hex", { signature: "zz".repeat(32) }, /does not match/],
    ["a truncated signature", { signature: "abcd" }, /does not match/],
    ["another secret's signature", { otherSecret: true }, /does not match/],
    ["a tampered body", { signedBody: '{"token":"x","repository":null,"action":"read"}' }, /does not match/],
    ["a tampered path", { signedPath: "/v1/authorize?x=1" }, /does not match/],
    ["a tampered method", { signedMethod: "GET" }, /does not match/],
    ["a timestamp that is not a number", { headers: { "x-armor-timestamp": "yesterday" } }, /unix time/],
    ["a replayed (old) timestamp", { age: REPLAY_WINDOW_SECONDS + 5 }, /replayed request/],
    ["a timestamp from the future", { age: -(REPLAY_WINDOW_SECONDS + 5) }, /replayed request/],
  ] as const)("%s is refused with 401 bad_signature", async ([, how, message], { expect }) => {
    const timestamp = now() - ("age" in how ? how.age : 0);
    const options = {
      body: body(),
      timestamp,
      ...("signature" in how ? { signature: how.signature } : {}),
      ...("headers" in how ? { headers: how.headers } : {}),
      ...("signedBody" in how ? { signedBody: how.signedBody } : {}),
      ...("signedPath" in how ? { signedPath: how.signedPath } : {}),
      ...("signedMethod" in how ? { signedMethod: how.signedMethod } : {}),
      ...("otherSecret" in how
        ? {
            signature: sign(
              "another-secret-that-is-long-enough-0123456789",
              String(timestamp),
              "POST",
              "/v1/authorize",
              JSON.stringify(body()),
            ),
          }
        : {}),
    };
    const res = await sidecar.call("POST", "/v1/authorize", options);
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: { code: "bad_signature", message: expect.stringMatching(message) } });
  });

  it("a timestamp just inside the window is accepted", async ({ expect }) => {
    const res = await sidecar.call("POST", "/v1/authorize", {
      body: body(),
      timestamp: now() - (REPLAY_WINDOW_SECONDS - 5),
    });
    expect(res.status).toBe(200);
  });

  it("management endpoints need the signature too, before the token is even looked at", async ({ expect }) => {
    const res = await sidecar.call("GET", "/v1/accounts", { token: sidecar.adminToken, signature: null });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe("bad_signature");
  });

  it("a signature over one query does not cover another", async ({ expect }) => {
    const res = await sidecar.call("GET", "/v1/tokens?account=admin", {
      token: sidecar.adminToken,
      signedPath: "/v1/tokens",
    });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe("bad_signature");
  });

  it("an oversized body is refused before it is hashed", async ({ expect }) => {
    const res = await sidecar.call("POST", "/v1/authorize", {
      body: { ...body(), padding: "x".repeat(70_000) },
    });
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe("body_too_large");
  });

  it("/healthz needs no signature", async ({ expect }) => {
    const res = await sidecar.call("GET", "/healthz", { signature: null });
    expect(res).toEqual({ status: 200, body: { ok: true } });
  });
});
