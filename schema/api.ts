/**
 * Request bodies and parameters of the HTTP API (`/api/v1`, `/admin/v1`), parsed once at the edge.
 * Responses are in schema/responses.ts; field names are snake_case on the wire.
 */
import { z } from "zod";
import { COMPONENT_MAX_DEPTH, isValidComponent } from "../deb/pool.ts";
import { DistSchema, ReleaseIdSchema, RepositoryHostnameSchema, RepositoryIdSchema } from "./index-document.ts";
import { ADD_MAX, KEY_TEXT_MAX, LOOKUP_MAX, MULTIPART_MAX_PARTS, PACKAGE_NAME } from "./limits.ts";

export const Sha256Schema = z
  .string()
  .regex(/^[0-9a-f]{64}$/, { message: "must be 64 lowercase hex digits (a SHA-256)" });

/** Debian Policy §5.6.1 package names. */
export const PackageNameSchema = z
  .string()
  .regex(PACKAGE_NAME, { message: "must be a Debian package name (lowercase letters, digits, + - .)" });

/** A component: segments joined by "/" (`main`, `stable/v17`), each checked by deb/pool.ts. */
export const ComponentSchema = z.string().refine(isValidComponent, {
  message: `must be a component name such as main or stable/v17 (segments of lowercase letters, digits, + - . joined by "/", at most ${COMPONENT_MAX_DEPTH})`,
});

export const ArchitectureSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,31}$/, { message: "must be a Debian architecture such as amd64 or all" });

export const HostnameSchema = RepositoryHostnameSchema;

export const CreateRepositorySchema = z.object({
  id: RepositoryIdSchema,
  visibility: z.enum(["public", "private"]).default("public"),
  hostnames: z.array(HostnameSchema).max(16).default([]),
  may_reuse_versions: z.boolean().default(false),
  /** How long retired releases, snapshot URLs and by-hash files stay servable; 0 keeps only the active release. */
  retention_days: z.number().int().min(0).max(3650).default(30),
});
export type CreateRepository = z.infer<typeof CreateRepositorySchema>;

export const AddPackagesSchema = z.object({
  /** Target this release, which must be the open one; by default the open release (opened from the active one if none). */
  release: ReleaseIdSchema.nullable().default(null),
  dist: DistSchema,
  component: ComponentSchema.default("main"),
  packages: z.array(Sha256Schema).min(1).max(ADD_MAX),
});

/** `POST …/blobs/lookup`: which of these packages does the repository have (the CLI skips those)? */
export const LookupPackagesSchema = z.object({
  sha256: z.array(Sha256Schema).min(1).max(LOOKUP_MAX),
});

export const RemovePackagesSchema = z.object({
  release: ReleaseIdSchema.nullable().default(null),
  dist: DistSchema,
  component: ComponentSchema.nullable().default(null),
  name: PackageNameSchema,
  version: z.string().min(1).max(256).nullable().default(null),
  architecture: ArchitectureSchema.nullable().default(null),
});

export const ListPackagesQuerySchema = z.object({
  release: ReleaseIdSchema.nullable().default(null),
  dist: DistSchema.nullable().default(null),
  component: ComponentSchema.nullable().default(null),
  architecture: ArchitectureSchema.nullable().default(null),
  name: PackageNameSchema.nullable().default(null),
});

export const CreateReleaseSchema = z.object({
  /** "active" (default), "empty", or the id of the release to start from. */
  from: z.union([z.literal("active"), z.literal("empty"), ReleaseIdSchema]).default("active"),
  /**
   * Every dist must be signed again before the release activates (new Release files with a new
   * Date). This is how a rollback reaches apt clients: apt ignores a Release dated before the one
   * it already has, so re-activating an old release only helps clients that never saw the newer one.
   */
  resign: z.boolean().default(false),
});

export const AddKeySchema = z.object({
  key: z.string().min(1).max(KEY_TEXT_MAX),
});

export const CreateUploadSchema = z.object({
  sha256: Sha256Schema,
  size: z.number().int().positive(),
});

export const CompleteUploadSchema = z.object({
  upload_id: z.string().min(1).max(1024),
  parts: z
    .array(
      z.object({ part_number: z.number().int().min(1).max(MULTIPART_MAX_PARTS), etag: z.string().min(1).max(256) }),
    )
    .min(1)
    .max(MULTIPART_MAX_PARTS),
});

export const GcSchema = z.object({
  /** Uploads nothing refers to are kept this long, so a package uploaded but not yet added survives. */
  grace_seconds: z
    .number()
    .int()
    .min(0)
    .max(365 * 86_400)
    .default(86_400),
});
