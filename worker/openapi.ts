/**
 * The HTTP API described as OpenAPI 3.1, built from the zod schemas the routes validate requests
 * with and the object's answers are typed by (schema/api.ts, schema/responses.ts, schema/sidecar.ts),
 * so the description cannot drift from the code: a schema changed is a document changed, and
 * test/worker/openapi.test.ts fails when a route of the app is missing here. zod 4 writes JSON
 * Schema draft 2020-12, which is what OpenAPI 3.1 uses.
 */
import { type ZodType, z } from "zod";
import { API_ERROR_CODES, type ApiErrorCode } from "../schema/errors.ts";
import { WebhookPayloadSchema } from "../schema/webhooks.ts";
import { statusOf } from "./errors.ts";
import { type Access, OPERATIONS } from "./openapi-operations.ts";

export { OPERATIONS };

const TAG_TEXT: Record<string, string> = {
  repositories: "A repository, as its users see it",
  packages: "Uploading .deb files and adding them to the open release",
  releases: "Releases: copy-on-write snapshots of the whole repository, activated atomically",
  publishing: "Generating indexes, and submitting them signed",
  keys: "The repository's signing keys (public halves only)",
  accounts: "Accounts, API tokens and grants (the accounts sidecar, through the Worker)",
  operators: "Creating, inspecting and maintaining repositories",
  webhooks:
    "HTTP POSTs to your URLs when packages, releases or keys change: JSON payloads (schema WebhookPayload), signed with X-Armor-Signature: sha256=<HMAC-SHA256 of the body with the webhook's secret>",
  meta: "This description",
};

/** Errors any operation may answer with, by who may call it. */
function commonErrors(access: Access): ApiErrorCode[] {
  const always: ApiErrorCode[] = ["invalid_request", "internal_error", "unavailable"];
  if (access === "public") return always;
  const repository = access === "viewer" || access === "uploader" || access === "admin";
  return [
    ...always,
    "unauthorized",
    "forbidden",
    ...(repository ? (["repository_not_found", "unknown_host"] as const) : []),
  ];
}

const ROLE_TEXT: Record<Access, string> = {
  public: "No credentials needed.",
  viewer: "Needs the viewer role on the repository (none for a public repository).",
  uploader: "Needs the uploader role on the repository.",
  admin: "Needs the admin role on the repository.",
  "platform-admin": "Needs a platform admin (or the operator token).",
  token: "Needs an API token.",
};

function jsonSchema(schema: ZodType, io: "input" | "output"): Record<string, unknown> {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: "any" }) as Record<string, unknown>;
  return rest;
}

function pathParams(path: string): string[] {
  return [...path.matchAll(/:([a-z_]+)/g)].map((m) => m[1] ?? "");
}

const PARAM_TEXT: Record<string, string> = {
  owner: "The repository's owner (the first half of owner/name; a hostname of the repository may stand for owner/name)",
  name: "The repository's name",
  sha256: "The file's SHA-256, 64 lowercase hex digits",
  part: "The part number, from 1",
  id: "An id",
  other: "The other release's id",
  dist: "The dist (suite), e.g. stable",
  fingerprint: "The key's fingerprint",
  host: "A hostname",
};

/** The OpenAPI 3.1 document for `server` (the platform host the request came to). */
export function openApiDocument(server: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  const errorsByStatus = new Map<number, ApiErrorCode[]>();
  for (const code of API_ERROR_CODES) {
    const status = statusOf(code);
    errorsByStatus.set(status, [...(errorsByStatus.get(status) ?? []), code]);
  }
  for (const op of OPERATIONS) {
    const path = op.path.replace(/:([a-z_]+)/g, "{$1}");
    const params = [
      ...pathParams(op.path).map((name) => ({
        name,
        in: "path",
        required: true,
        description: PARAM_TEXT[name] ?? name,
        schema: { type: "string" },
      })),
      ...Object.entries(
        op.query === undefined ? {} : (jsonSchema(op.query, "input").properties as Record<string, unknown>),
      ).map(([name, schema]) => ({ name, in: "query", required: false, schema })),
    ];
    const responses: Record<string, unknown> = {};
    for (const [status, r] of Object.entries(op.responses)) {
      responses[status] =
        r.schema === undefined
          ? { description: r.description }
          : { description: r.description, content: { "application/json": { schema: jsonSchema(r.schema, "output") } } };
    }
    const codes = [...new Set([...commonErrors(op.access), ...(op.errors ?? [])])];
    const statuses = [...new Set(codes.map(statusOf))].sort();
    for (const status of statuses) {
      const here = codes.filter((c) => statusOf(c) === status);
      responses[String(status)] = {
        description: `An error: ${here.join(", ")}`,
        content: {
          "application/json": {
            schema: {
              allOf: [{ $ref: "#/components/schemas/Error" }],
              properties: { error: { properties: { code: { enum: here } } } },
            },
          },
        },
      };
    }
    const body =
      op.body === undefined
        ? undefined
        : op.body instanceof z.ZodType
          ? { required: true, content: { "application/json": { schema: jsonSchema(op.body, "input") } } }
          : {
              required: true,
              description: op.body.description,
              content: { [op.body.type]: { schema: op.body.schema } },
            };
    const operationId = `${op.method}${op.path
      .replace(/^\/(api|admin)\/v1/, (_m, area: string) => (area === "admin" ? "/admin" : ""))
      .split(/[/:.-]+/)
      .filter(Boolean)
      .map((s) => s[0]?.toUpperCase() + s.slice(1))
      .join("")}`;
    paths[path] = {
      ...(paths[path] ?? {}),
      [op.method]: {
        operationId,
        summary: op.summary,
        description: ROLE_TEXT[op.access],
        tags: [op.tag],
        ...(params.length > 0 ? { parameters: params } : {}),
        ...(body ? { requestBody: body } : {}),
        responses,
        security: op.access === "public" ? [] : [{ bearer: [] }, { basic: [] }],
      },
    };
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Armor",
      version: "1",
      summary: "Signed APT repositories at the edge",
      description:
        'The HTTP API of Armor: upload .deb files, publish signed releases, manage keys, accounts and repositories. A repository is named by owner/name in paths; any hostname it is served at may stand for owner/name (`/api/v1/repositories/{hostname}/…`). Every error is `{ "error": { "code", "message", "details"? } }`.',
      license: { name: "Proprietary", identifier: "LicenseRef-Proprietary" },
    },
    servers: [{ url: server }],
    tags: [...new Set(OPERATIONS.map((o) => o.tag))].map((name) => ({ name, description: TAG_TEXT[name] ?? name })),
    paths,
    // OpenAPI 3.1's place for requests the API makes: every webhook delivery (worker/webhooks/).
    webhooks: {
      event: {
        post: {
          operationId: "webhookDelivery",
          summary: "A webhook delivery: one event, POSTed to the webhook's URL",
          description:
            "Headers: X-Armor-Event (the event), X-Armor-Delivery (the delivery id, the same on every retry), X-Armor-Signature (sha256=<hex HMAC-SHA256 of the raw body with the webhook's secret>). A receiver that answers other than 2xx, or not within 10 s, is retried with backoff.",
          requestBody: {
            required: true,
            content: { "application/json": { schema: { $ref: "#/components/schemas/WebhookPayload" } } },
          },
          responses: { "200": { description: "Any 2xx acknowledges the delivery" } },
          security: [],
        },
      },
    },
    components: {
      securitySchemes: {
        bearer: { type: "http", scheme: "bearer", description: "An API token: Authorization: Bearer <token>" },
        basic: {
          type: "http",
          scheme: "basic",
          description: "As apt sends it: any user name, the API token as password",
        },
      },
      schemas: {
        WebhookPayload: jsonSchema(WebhookPayloadSchema, "output"),
        Error: {
          type: "object",
          required: ["error"],
          properties: {
            error: {
              type: "object",
              required: ["code", "message"],
              properties: {
                code: { type: "string", enum: [...API_ERROR_CODES] },
                message: { type: "string", description: "What went wrong, and what to do about it" },
                details: { type: "object", additionalProperties: true },
              },
            },
          },
        },
      },
    },
  };
}
