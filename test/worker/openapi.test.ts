/** Every route of the HTTP API is in the OpenAPI document, which the Worker serves with its reference. */
import { exports } from "cloudflare:workers";
import { describe, it } from "vitest";
import { app } from "../../worker/index.ts";

const API = /^\/(api|admin)\/v1\//;

describe("GET /api/v1/openapi.json", () => {
  it("describes every route of the API, with its methods", async ({ expect }) => {
    const res = await exports.default.fetch("http://localhost/api/v1/openapi.json");
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(doc.openapi).toBe("3.1.0");
    const described = new Set(
      Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`)),
    );
    const routes = new Set<string>();
    for (const r of app.routes) {
      if (!API.test(r.path) || r.path.endsWith("*") || r.method === "ALL") continue;
      routes.add(`${r.method} ${r.path.replace(/:([a-z_]+)/g, "{$1}")}`);
    }
    expect(routes.size).toBeGreaterThan(30);
    const missing = [...routes].filter((r) => !described.has(r));
    expect(missing).toEqual([]);
    const extra = [...described].filter((d) => !routes.has(d) && !d.startsWith("HEAD "));
    expect(extra).toEqual([]);
  });

  it("names every error code under the status it is answered with", async ({ expect }) => {
    const doc = (await (await exports.default.fetch("http://localhost/api/v1/openapi.json")).json()) as {
      components: { schemas: { Error: { properties: { error: { properties: { code: { enum: string[] } } } } } } };
    };
    expect(doc.components.schemas.Error.properties.error.properties.code.enum).toContain("version_exists");
  });
});

describe("GET /api/v1/docs", () => {
  it("renders a readable reference of the same operations", async ({ expect }) => {
    const res = await exports.default.fetch("http://localhost/api/v1/docs");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    const page = await res.text();
    expect(page).toContain("<h1>Armor API reference</h1>");
    expect(page).toContain("/api/v1/repositories/{owner}/{name}/dists/{dist}/signed");
    expect(page).toContain('href="openapi.json"');
  });
});
