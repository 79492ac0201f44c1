/**
 * The HTTP API described as OpenAPI 3.1, built from the zod schemas the routes validate requests
 * with and the object's answers are typed by (schema/api.ts, schema/responses.ts, schema/sidecar.ts),
 * so the description cannot drift from the code: a schema changed is a document changed, and
 * test/worker/openapi.test.ts fails when a route of the app is missing here. zod 4 writes JSON
 * Schema draft 2020-12, which is what OpenAPI 3.1 uses.
 */
import { type ZodType, z } from "zod";
import {
  AddKeySchema,
  AddPackagesSchema,
  CompleteUploadSchema,
  CreateReleaseSchema,
  CreateRepositorySchema,
  CreateUploadSchema,
  GcSchema,
  ListPackagesQuerySchema,
  LookupPackagesSchema,
  RemovePackagesSchema,
} from "../schema/api.ts";
import { API_ERROR_CODES, type ApiErrorCode } from "../schema/errors.ts";
import {
  ActivatedReleaseSchema,
  ActivationLogSchema,
  AddedPackagesSchema,
  CreatedRepositorySchema,
  DestroyedSchema,
  DiscardedReleaseSchema,
  GeneratedSchema,
  KeyListSchema,
  KeySummarySchema,
  MultipartUploadSchema,
  PackageFoundSchema,
  PackageListSchema,
  PackageLookupSchema,
  RegisteredBatchSchema,
  RegisteredPackageSchema,
  ReleaseDetailSchema,
  ReleaseDiffSchema,
  ReleaseListSchema,
  RemovedKeySchema,
  RemovedPackagesSchema,
  RepositoryInfoSchema,
  RepositoryListSchema,
  RepositoryRowSchema,
  SubmittedSchema,
  UploadedPartSchema,
} from "../schema/responses.ts";
import {
  AccountListSchema,
  AccountSchema,
  CreateAccountSchema,
  CreatedTokenSchema,
  CreateTokenSchema,
  GrantEntrySchema,
  GrantListSchema,
  GrantSchema,
  TokenListSchema,
  TokenSchema,
  WhoamiSchema,
} from "../schema/sidecar.ts";
import {
  CreateWebhookSchema,
  DeliveryListSchema,
  DeliverySchema,
  RemovedWebhookSchema,
  WebhookListSchema,
  WebhookPayloadSchema,
  WebhookSchema,
} from "../schema/webhooks.ts";
import { statusOf } from "./errors.ts";

type Method = "get" | "post" | "put" | "delete" | "head";
/** Who may call an operation: nobody in particular, a token with a role on the repository, a platform admin. */
type Access = "public" | "viewer" | "uploader" | "admin" | "platform-admin" | "token";

interface Operation {
  method: Method;
  /** The path as Hono routes it, `:param` style; written `{param}` in the document. */
  path: string;
  summary: string;
  tag: string;
  access: Access;
  query?: z.ZodObject;
  /** A JSON body, or another media type with its schema. */
  body?: ZodType | { type: string; schema: Record<string, unknown>; description: string };
  responses: Record<number, { description: string; schema?: ZodType }>;
  /** Error codes this operation answers with, beyond the ones every operation may. */
  errors?: ApiErrorCode[];
}

const REPO = "/api/v1/repositories/:owner/:name";
const ADMIN_REPO = "/admin/v1/repositories/:owner/:name";
const binary = { type: "string", contentMediaType: "application/octet-stream" };
const ok = (description: string, schema?: ZodType) => ({ 200: { description, ...(schema ? { schema } : {}) } });

/** Every operation of the HTTP API (apt's paths are described in the README, not here: they are files). */
export const OPERATIONS: Operation[] = [
  // repositories
  {
    method: "get",
    path: REPO,
    summary: "The repository: its base URL, visibility, hostnames and active release",
    tag: "repositories",
    access: "viewer",
    responses: ok("The repository", RepositoryInfoSchema),
  },
  // packages
  {
    method: "get",
    path: `${REPO}/blobs/:sha256`,
    summary: "Whether the repository already holds the package with this SHA-256",
    tag: "packages",
    access: "uploader",
    responses: ok("It does", PackageFoundSchema),
    errors: ["package_not_found"],
  },
  {
    method: "put",
    path: `${REPO}/blobs/:sha256`,
    summary: "Upload one .deb (Content-Length required, at most 100 MB): parsed, verified, stored, registered",
    tag: "packages",
    access: "uploader",
    body: { type: "application/vnd.debian.binary-package", schema: binary, description: "The .deb file" },
    responses: {
      200: { description: "The repository had it already", schema: RegisteredPackageSchema },
      201: { description: "Stored and registered", schema: RegisteredPackageSchema },
    },
    errors: [
      "invalid_package",
      "hash_mismatch",
      "size_mismatch",
      "version_exists",
      "filename_exists",
      "body_too_large",
    ],
  },
  {
    method: "post",
    path: `${REPO}/blobs/lookup`,
    summary: "Which of these packages the repository holds (up to 1000)",
    tag: "packages",
    access: "uploader",
    body: LookupPackagesSchema,
    responses: ok("Each hash with its package, or null", PackageLookupSchema),
  },
  {
    method: "post",
    path: `${REPO}/blobs`,
    summary:
      "Upload a batch of small .deb files (multipart/form-data, one file part per .deb named by its SHA-256), all or nothing",
    tag: "packages",
    access: "uploader",
    body: {
      type: "multipart/form-data",
      schema: { type: "object", additionalProperties: binary },
      description: "One file part per .deb, its field name the file's SHA-256",
    },
    responses: {
      200: { description: "The repository had them all", schema: RegisteredBatchSchema },
      201: { description: "Stored and registered, in request order", schema: RegisteredBatchSchema },
    },
    errors: ["invalid_package", "hash_mismatch", "version_exists", "filename_exists", "body_too_large"],
  },
  {
    method: "post",
    path: `${REPO}/uploads`,
    summary: "Start a multipart upload of a file above 100 MB",
    tag: "packages",
    access: "uploader",
    body: CreateUploadSchema,
    responses: {
      200: { description: "The repository has it already", schema: RegisteredPackageSchema },
      201: { description: "The upload, its id and part size", schema: MultipartUploadSchema },
    },
  },
  {
    method: "put",
    path: `${REPO}/uploads/:sha256/parts/:part`,
    summary: "Upload one part (?upload_id=…)",
    tag: "packages",
    access: "uploader",
    query: z.object({ upload_id: z.string() }),
    body: { type: "application/octet-stream", schema: binary, description: "The part's bytes" },
    responses: ok("The part's number and etag", UploadedPartSchema),
    errors: ["upload_not_found", "size_mismatch", "body_too_large"],
  },
  {
    method: "post",
    path: `${REPO}/uploads/:sha256/complete`,
    summary: "Complete a multipart upload: the file is read back, verified and registered",
    tag: "packages",
    access: "uploader",
    body: CompleteUploadSchema,
    responses: {
      200: { description: "The repository had it already", schema: RegisteredPackageSchema },
      201: { description: "Stored and registered", schema: RegisteredPackageSchema },
    },
    errors: [
      "upload_not_found",
      "invalid_package",
      "hash_mismatch",
      "size_mismatch",
      "version_exists",
      "filename_exists",
    ],
  },
  {
    method: "delete",
    path: `${REPO}/uploads/:sha256`,
    summary: "Abort a multipart upload (?upload_id=…)",
    tag: "packages",
    access: "uploader",
    query: z.object({ upload_id: z.string() }),
    responses: { 204: { description: "Aborted" } },
    errors: ["upload_not_found"],
  },
  {
    method: "post",
    path: `${REPO}/packages`,
    summary: "Add uploaded packages to a dist and component of the open release",
    tag: "packages",
    access: "uploader",
    body: AddPackagesSchema,
    responses: ok("What was added and what was there already", AddedPackagesSchema),
    errors: ["package_not_found", "release_immutable", "filename_exists"],
  },
  {
    method: "post",
    path: `${REPO}/packages/remove`,
    summary: "Remove packages from a dist of the open release",
    tag: "packages",
    access: "uploader",
    body: RemovePackagesSchema,
    responses: ok("What was removed", RemovedPackagesSchema),
  },
  {
    method: "get",
    path: `${REPO}/packages`,
    summary: "List the packages of a release (the open one, else the active one)",
    tag: "packages",
    access: "viewer",
    query: ListPackagesQuerySchema,
    responses: ok("The packages", PackageListSchema),
  },
  // releases and publishing
  {
    method: "post",
    path: `${REPO}/releases`,
    summary: "Open a release, from the active one, another release, or empty",
    tag: "releases",
    access: "uploader",
    body: CreateReleaseSchema,
    responses: { 201: { description: "The open release", schema: ReleaseListSchema.shape.releases.element } },
    errors: ["release_open", "release_not_found"],
  },
  {
    method: "get",
    path: `${REPO}/releases`,
    summary: "Every release, newest first",
    tag: "releases",
    access: "viewer",
    responses: ok("The releases", ReleaseListSchema),
  },
  {
    method: "get",
    path: `${REPO}/releases/:id`,
    summary: "One release: its dists, signatures and counts",
    tag: "releases",
    access: "viewer",
    responses: ok("The release", ReleaseDetailSchema),
    errors: ["release_not_found"],
  },
  {
    method: "delete",
    path: `${REPO}/releases/:id`,
    summary: "Discard the open release and what only it holds",
    tag: "releases",
    access: "uploader",
    responses: ok("Discarded", DiscardedReleaseSchema),
    errors: ["release_not_found", "release_immutable"],
  },
  {
    method: "get",
    path: `${REPO}/releases/:id/diff/:other`,
    summary: "Packages added and removed from one release to another",
    tag: "releases",
    access: "viewer",
    responses: ok("The difference", ReleaseDiffSchema),
    errors: ["release_not_found"],
  },
  {
    method: "post",
    path: `${REPO}/releases/:id/activate`,
    summary: "Activate a release, or roll back to a retired one within retention",
    tag: "releases",
    access: "admin",
    responses: ok("Active and served by the edge", ActivatedReleaseSchema),
    errors: ["release_not_found", "release_unsigned", "release_expired", "activation_pending"],
  },
  {
    method: "get",
    path: `${REPO}/activations`,
    summary: "The activation log, newest first",
    tag: "releases",
    access: "viewer",
    responses: ok("The log", ActivationLogSchema),
  },
  {
    method: "post",
    path: `${REPO}/dists/:dist/generate`,
    summary: "Regenerate the dist's dirty indexes; returns the unsigned document with the Release text to sign",
    tag: "publishing",
    access: "uploader",
    responses: ok("The unsigned document (TOML) and which indexes were regenerated or reused", GeneratedSchema),
    errors: ["no_open_release"],
  },
  {
    method: "post",
    path: `${REPO}/dists/:dist/signed`,
    summary:
      "Submit the signed document; the release activates once every changed dist is signed (?activate=false stages it)",
    tag: "publishing",
    access: "uploader",
    query: z.object({ activate: z.enum(["true", "false"]).optional() }),
    body: {
      type: "application/toml",
      schema: { type: "string" },
      description:
        "The signed document: the unsigned one plus InRelease, Release.gpg and the signing key's fingerprint",
    },
    responses: ok("Stored, and whether the release activated", SubmittedSchema),
    errors: [
      "stale_generation",
      "release_mismatch",
      "bad_signature",
      "untrusted_key",
      "malformed_document",
      "activation_pending",
    ],
  },
  // keys
  {
    method: "get",
    path: `${REPO}/keys`,
    summary: "The repository's signing keys, trusted and revoked",
    tag: "keys",
    access: "viewer",
    responses: ok("The keys", KeyListSchema),
  },
  {
    method: "post",
    path: `${REPO}/keys`,
    summary: "Trust a public key, or record a revocation (a revoked key or a revocation certificate)",
    tag: "keys",
    access: "admin",
    body: AddKeySchema,
    responses: {
      200: { description: "A revocation, recorded: the key signs nothing more", schema: KeySummarySchema },
      201: { description: "Trusted", schema: KeySummarySchema },
    },
    errors: ["invalid_key", "secret_key", "key_expired", "key_revoked", "key_cannot_sign"],
  },
  {
    method: "delete",
    path: `${REPO}/keys/:fingerprint`,
    summary: "Stop trusting a key",
    tag: "keys",
    access: "admin",
    responses: ok("Removed", RemovedKeySchema),
    errors: ["key_not_found", "key_revoked"],
  },
  // webhooks
  {
    method: "get",
    path: `${REPO}/webhooks`,
    summary: "The repository's webhooks (never their secrets)",
    tag: "webhooks",
    access: "admin",
    responses: ok("The webhooks", WebhookListSchema),
  },
  {
    method: "post",
    path: `${REPO}/webhooks`,
    summary: "Add a webhook: an http(s) URL, a secret to sign deliveries with, and the events it wants",
    tag: "webhooks",
    access: "admin",
    body: CreateWebhookSchema,
    responses: { 201: { description: "The webhook, without its secret", schema: WebhookSchema } },
    errors: ["too_many_webhooks"],
  },
  {
    method: "delete",
    path: `${REPO}/webhooks/:id`,
    summary: "Remove a webhook",
    tag: "webhooks",
    access: "admin",
    responses: ok("Removed", RemovedWebhookSchema),
    errors: ["webhook_not_found"],
  },
  {
    method: "post",
    path: `${REPO}/webhooks/:id/test`,
    summary: "Send the webhook a ping event",
    tag: "webhooks",
    access: "admin",
    responses: { 202: { description: "The delivery, queued", schema: DeliverySchema } },
    errors: ["webhook_not_found"],
  },
  {
    method: "get",
    path: `${REPO}/webhooks/:id/deliveries`,
    summary: "The webhook's deliveries, newest first, each with every attempt (status, duration, error)",
    tag: "webhooks",
    access: "admin",
    responses: ok("The deliveries", DeliveryListSchema),
    errors: ["webhook_not_found"],
  },
  // accounts (the sidecar, through the Worker)
  {
    method: "get",
    path: "/api/v1/whoami",
    summary: "The account, the token in use and every role it holds",
    tag: "accounts",
    access: "token",
    responses: ok("Who the token is", WhoamiSchema),
  },
  {
    method: "get",
    path: "/api/v1/tokens",
    summary: "The caller's API tokens (platform admins: ?account=)",
    tag: "accounts",
    access: "token",
    responses: ok("The tokens, never their secrets", TokenListSchema),
  },
  {
    method: "post",
    path: "/api/v1/tokens",
    summary: "Create an API token; its secret is shown this once",
    tag: "accounts",
    access: "token",
    body: CreateTokenSchema,
    responses: { 201: { description: "The token, with its secret", schema: CreatedTokenSchema } },
  },
  {
    method: "delete",
    path: "/api/v1/tokens/:id",
    summary: "Revoke a token",
    tag: "accounts",
    access: "token",
    responses: ok("The revoked token", TokenSchema),
  },
  {
    method: "get",
    path: "/api/v1/accounts",
    summary: "Every account",
    tag: "accounts",
    access: "platform-admin",
    responses: ok("The accounts", AccountListSchema),
  },
  {
    method: "post",
    path: "/api/v1/accounts",
    summary: "Create an account",
    tag: "accounts",
    access: "platform-admin",
    body: CreateAccountSchema,
    responses: { 201: { description: "The account", schema: AccountSchema } },
  },
  {
    method: "get",
    path: `${REPO}/access`,
    summary: "Every grant on the repository",
    tag: "accounts",
    access: "admin",
    responses: ok("The grants", GrantListSchema),
  },
  {
    method: "post",
    path: `${REPO}/access`,
    summary: "Grant a role on the repository to an account or a token",
    tag: "accounts",
    access: "admin",
    body: GrantSchema.omit({ repository: true }),
    responses: ok("The grant", GrantEntrySchema),
  },
  {
    method: "delete",
    path: `${REPO}/access`,
    summary: "Revoke a grant",
    tag: "accounts",
    access: "admin",
    body: GrantSchema.omit({ repository: true, role: true }),
    responses: ok("The grant removed", GrantEntrySchema),
  },
  // operators
  {
    method: "post",
    path: "/admin/v1/repositories",
    summary: "Create a repository",
    tag: "operators",
    access: "platform-admin",
    body: CreateRepositorySchema,
    responses: { 201: { description: "Created", schema: CreatedRepositorySchema } },
    errors: ["repository_exists", "hostname_taken"],
  },
  {
    method: "get",
    path: "/admin/v1/repositories",
    summary: "Every repository, with its hostnames",
    tag: "operators",
    access: "platform-admin",
    responses: ok("The repositories", RepositoryListSchema),
  },
  {
    method: "get",
    path: ADMIN_REPO,
    summary: "The edge's row of a repository",
    tag: "operators",
    access: "admin",
    responses: ok("The row", RepositoryRowSchema),
  },
  {
    method: "delete",
    path: ADMIN_REPO,
    summary: "Delete a repository, its releases and files (202 when R2 failed part way: an alarm finishes it)",
    tag: "operators",
    access: "admin",
    responses: {
      200: { description: "Deleted", schema: DestroyedSchema.extend({ deleted: z.string() }) },
      202: {
        description: "Deleted at the edge; the rest of its files follow",
        schema: DestroyedSchema.extend({ deleted: z.string() }),
      },
    },
  },
  {
    method: "put",
    path: `${ADMIN_REPO}/hostnames/:host`,
    summary: "Serve the repository at a hostname too",
    tag: "operators",
    access: "admin",
    responses: ok("Done", z.object({ hostname: z.string(), repository: z.string() })),
    errors: ["hostname_taken"],
  },
  {
    method: "delete",
    path: `${ADMIN_REPO}/hostnames/:host`,
    summary: "Stop serving the repository at a hostname",
    tag: "operators",
    access: "admin",
    responses: { 204: { description: "Done" } },
  },
  {
    method: "get",
    path: `${ADMIN_REPO}/stats`,
    summary: "Counts, bytes and the open release's dirty indexes",
    tag: "operators",
    access: "admin",
    responses: ok("The figures", z.record(z.string(), z.unknown())),
  },
  {
    method: "post",
    path: `${ADMIN_REPO}/reindex`,
    summary: "Mark every index of the open release dirty",
    tag: "operators",
    access: "admin",
    responses: ok("The open release", z.object({ release: z.string(), generation: z.number(), dirty: z.number() })),
  },
  {
    method: "post",
    path: `${ADMIN_REPO}/fsck`,
    summary: "Check that every stored file is in R2 with the size and SHA-256 recorded",
    tag: "operators",
    access: "admin",
    responses: ok(
      "What was checked and what is wrong",
      z.object({
        checked: z.number(),
        problems: z.array(z.object({ sha256: z.string(), kind: z.string(), problem: z.string() })),
      }),
    ),
  },
  {
    method: "post",
    path: `${ADMIN_REPO}/gc`,
    summary: "Delete what no release within retention needs",
    tag: "operators",
    access: "admin",
    body: GcSchema,
    responses: ok(
      "What was deleted",
      z.object({
        releases_deleted: z.array(z.string()),
        packages_deleted: z.number(),
        blobs_deleted: z.number(),
        bytes_freed: z.number(),
      }),
    ),
  },
  // this document
  {
    method: "get",
    path: "/api/v1/openapi.json",
    summary: "This document",
    tag: "meta",
    access: "public",
    responses: ok("OpenAPI 3.1", z.record(z.string(), z.unknown())),
  },
  {
    method: "get",
    path: "/api/v1/docs",
    summary: "A readable reference rendered from this document (HTML)",
    tag: "meta",
    access: "public",
    responses: { 200: { description: "The reference, as an HTML page" } },
  },
];

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
