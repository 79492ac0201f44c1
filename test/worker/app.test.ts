import { exports } from "cloudflare:workers";
import { describe, it } from "vitest";

describe("edge Worker", () => {
  it("answers health checks on the platform host", async ({ expect }) => {
    const res = await exports.default.fetch("http://localhost/healthz");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true });
  });

  it("answers unknown routes with the JSON error envelope", async ({ expect }) => {
    const res = await exports.default.fetch("http://localhost/api/v2/nope", { method: "POST" });
    expect(res.status).toBe(404);
    expect(res.headers.get("vary")).toBe("Authorization");
    expect(await res.json()).toEqual({ error: { code: "not_found", message: "no route for POST /api/v2/nope" } });
  });

  it("answers hosts it does not serve with unknown_host, on every path", async ({ expect }) => {
    for (const path of ["/healthz", "/api/v1/repositories/acme/x/releases", "/dists/stable/InRelease"]) {
      const res = await exports.default.fetch(`https://armor.invalid${path}`);
      expect(res.status).toBe(404);
      expect(await res.json()).toEqual({
        error: { code: "unknown_host", message: "armor.invalid is not a repository served by Armor" },
      });
    }
  });
});
