/**
 * Every operation of the HTTP API, with the zod schemas its route validates with and answers in:
 * what worker/openapi.ts turns into the OpenAPI document. A route added to the app and not here
 * fails test/worker/openapi.test.ts.
 */
import { type ZodType, z } from "zod";
import {
  AddKeySchema,
  AddPackagesSchema,
  CompleteUploadSchema,
  CreateReleaseSchema,
  CreateUploadSchema,
  ListPackagesQuerySchema,
  LookupPackagesSchema,
  RemovePackagesSchema,
} from "../schema/api.ts";
import type { ApiErrorCode } from "../schema/errors.ts";
import {
  ActivatedReleaseSchema,
  ActivationLogSchema,
  AddedPackagesSchema,
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
  SubmittedSchema,
  UploadedPartSchema,
} from "../schema/responses.ts";

export type Method = "get" | "post" | "put" | "delete" | "head";
/** Who may call an operation: nobody in particular, a token with a role on the repository, a platform admin. */
export type Access = "public" | "viewer" | "uploader" | "admin" | "platform-admin" | "token";

export interface Operation {
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

import { PLATFORM_OPERATIONS } from "./openapi-platform-operations.ts";

const REPO = "/api/v1/repositories/:owner/:name";
const _ADMIN_REPO = "/admin/v1/repositories/:owner/:name";
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
  ...PLATFORM_OPERATIONS,
];
