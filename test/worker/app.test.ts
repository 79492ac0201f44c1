import { exports } from "cloudflare:workers";
import { describe, it } from "vitest";

describe("edge Worker skeleton", () => {
  it("answers health checks", async ({ expect }) => {
    const res = await exports.default.fetch("https://armor.invalid/healthz");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true });
  });

  it("answers unknown routes with the JSON error envelope", async ({ expect }) => {
    const res = await exports.default.fetch("https://armor.invalid/nope");
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: { code: "not_found", message: "no route for GET /nope" } });
  });
});
