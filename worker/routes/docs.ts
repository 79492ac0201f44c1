/**
 * The API describing itself:
 *
 *   GET /api/v1/openapi.json   the OpenAPI 3.1 document (worker/openapi.ts), built from the zod schemas
 *   GET /api/v1/docs           a readable reference rendered from the same operations
 *
 * Both are public: they describe the API, not any repository's contents.
 */
import { Hono } from "hono";
import { html, raw } from "hono/html";
import { OPERATIONS, openApiDocument } from "../openapi.ts";

export const docsRoutes = new Hono<{ Bindings: Env }>();

/** The platform root the request came to: what the document's `servers` names. */
function serverOf(url: string): string {
  const u = new URL(url);
  return `${u.protocol}//${u.host}`;
}

docsRoutes.get("/openapi.json", (c) => {
  const res = c.json(openApiDocument(serverOf(c.req.url)));
  res.headers.set("cache-control", "max-age=300");
  return res;
});

docsRoutes.get("/docs", (c) => {
  const doc = openApiDocument(serverOf(c.req.url)) as { paths: Record<string, Record<string, Operation>> };
  const tags = [...new Set(OPERATIONS.map((o) => o.tag))];
  const body = tags.map((tag) => {
    const ops = OPERATIONS.filter((o) => o.tag === tag).map((o) => {
      const path = o.path.replace(/:([a-z_]+)/g, "{$1}");
      const described = doc.paths[path]?.[o.method];
      const request = described?.requestBody?.content;
      const responses = Object.entries(described?.responses ?? {});
      return html`<section class="op" id="${described?.operationId ?? ""}">
        <h3><span class="method ${o.method}">${o.method.toUpperCase()}</span> <code>${path}</code></h3>
        <p>${o.summary}. <em>${described?.description ?? ""}</em></p>
        ${
          request === undefined
            ? ""
            : html`<details><summary>Request body</summary>${Object.entries(request).map(
                ([type, media]) => html`<p><code>${type}</code></p><pre>${JSON.stringify(media.schema, null, 2)}</pre>`,
              )}</details>`
        }
        <details><summary>Responses</summary><dl>${responses.map(
          ([status, r]) =>
            html`<dt><code>${status}</code></dt><dd>${r.description}${
              r.content?.["application/json"]?.schema
                ? html`<pre>${JSON.stringify(r.content["application/json"].schema, null, 2)}</pre>`
                : ""
            }</dd>`,
        )}</dl></details>
      </section>`;
    });
    return html`<section><h2 id="${tag}">${tag}</h2>${ops}</section>`;
  });
  return c.html(
    html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Armor API reference</title>
<style>${raw(CSS)}</style>
</head>
<body>
<header><h1>Armor API reference</h1>
<p>Generated from the same schemas the API validates with. The machine-readable form: <a href="openapi.json">openapi.json</a> (OpenAPI 3.1).
Authenticate with <code>Authorization: Bearer &lt;token&gt;</code>. A repository is named <code>{owner}/{name}</code>, or by any hostname it is served at.
Every error is <code>{"error": {"code", "message", "details"?}}</code>.</p>
<nav aria-label="Sections"><ul>${tags.map((t) => html`<li><a href="#${t}">${t}</a></li>`)}</ul></nav></header>
<main>${body}</main>
</body>
</html>`,
  );
});

interface Operation {
  operationId?: string;
  description?: string;
  requestBody?: { content: Record<string, { schema: unknown }> };
  responses?: Record<string, { description: string; content?: Record<string, { schema?: unknown }> }>;
}

const CSS = `
:root { color-scheme: light dark; font-family: system-ui, sans-serif; line-height: 1.5; }
body { max-width: 60rem; margin: 0 auto; padding: 1rem; }
pre { overflow-x: auto; font-size: .85rem; background: color-mix(in srgb, currentColor 6%, transparent); padding: .5rem; }
.method { font-family: ui-monospace, monospace; padding: 0 .4rem; border-radius: .2rem; background: color-mix(in srgb, currentColor 12%, transparent); }
.op { border-top: 1px solid color-mix(in srgb, currentColor 20%, transparent); padding: .5rem 0; }
nav ul { display: flex; flex-wrap: wrap; gap: 1rem; list-style: none; padding: 0; }
`;
