/**
 * Response bodies of the HTTP API (`/api/v1`, `/admin/v1`): what the repository's object returns
 * over RPC and the routes answer with, snake_case on the wire. The server is typed by them; the
 * CLI parses every answer with them (cli/client.ts `json`), never casts one. Fields are listed in
 * the order the server writes them, which is the order a parsed answer has (`armor … --json`).
 * Requests are in schema/api.ts; the accounts sidecar's shapes in schema/sidecar.ts.
 */
import { z } from "zod";

const nullableString = z.string().nullable();

// packages

export const PackageSummarySchema = z.object({
  sha256: z.string(),
  name: z.string(),
  version: z.string(),
  architecture: z.string(),
  size: z.number(),
});
export type PackageSummary = z.infer<typeof PackageSummarySchema>;

/** A package as a release lists it: in a dist and component, at its pool path (`filename`). */
export const MemberSummarySchema = PackageSummarySchema.extend({
  dist: z.string(),
  component: z.string(),
  filename: z.string(),
});
export type MemberSummary = z.infer<typeof MemberSummarySchema>;

/** `GET …/blobs/:sha256`. */
export const PackageFoundSchema = z.object({ package: PackageSummarySchema });
export type PackageFound = z.infer<typeof PackageFoundSchema>;

/** `PUT …/blobs/:sha256`, `POST …/uploads/:sha256/complete`, and `POST …/uploads` for a package already held. */
export const RegisteredPackageSchema = z.object({ package: PackageSummarySchema, created: z.boolean() });
export type RegisteredPackage = z.infer<typeof RegisteredPackageSchema>;

/** `POST …/blobs`: the batch's packages, in request order. */
export const RegisteredBatchSchema = z.object({ packages: z.array(RegisteredPackageSchema) });
export type RegisteredBatch = z.infer<typeof RegisteredBatchSchema>;

/** `POST …/blobs/lookup`: each hash asked about, with its package or null. */
export const PackageLookupSchema = z.object({ packages: z.record(z.string(), PackageSummarySchema.nullable()) });
export type PackageLookup = z.infer<typeof PackageLookupSchema>;

/** `POST …/uploads`: a multipart upload started, or the package when the repository holds it already. */
export const MultipartUploadSchema = z.object({ upload_id: z.string(), sha256: z.string(), part_size: z.number() });
export type MultipartUpload = z.infer<typeof MultipartUploadSchema>;
export const UploadStartedSchema = z.union([MultipartUploadSchema, RegisteredPackageSchema]);

/** `PUT …/uploads/:sha256/parts/:n`. */
export const UploadedPartSchema = z.object({ part_number: z.number(), etag: z.string() });
export type UploadedPart = z.infer<typeof UploadedPartSchema>;

/** `POST …/packages`. */
export const AddedPackagesSchema = z.object({
  release: z.string(),
  generation: z.number(),
  added: z.array(MemberSummarySchema),
  unchanged: z.array(MemberSummarySchema),
});
export type AddedPackages = z.infer<typeof AddedPackagesSchema>;

/** `POST …/packages/remove`. */
export const RemovedPackagesSchema = z.object({
  release: z.string(),
  generation: z.number(),
  removed: z.array(MemberSummarySchema),
});
export type RemovedPackages = z.infer<typeof RemovedPackagesSchema>;

/** `GET …/packages`: `release` is null when the repository has none yet. */
export const PackageListSchema = z.object({
  release: nullableString,
  packages: z.array(MemberSummarySchema),
  truncated: z.boolean(),
});
export type PackageList = z.infer<typeof PackageListSchema>;

// releases

export const ReleaseStateSchema = z.enum(["open", "active", "retired"]);

export const ReleaseSummarySchema = z.object({
  id: z.string(),
  state: ReleaseStateSchema,
  parent: nullableString,
  generation: z.number(),
  created_at: z.string(),
  activated_at: nullableString,
  retired_at: nullableString,
});
export type ReleaseSummary = z.infer<typeof ReleaseSummarySchema>;

/** `GET …/releases`, newest first. */
export const ReleaseListSchema = z.object({ releases: z.array(ReleaseSummarySchema) });
export type ReleaseList = z.infer<typeof ReleaseListSchema>;

/** `GET …/releases/:id`: its dists (changed, generated, signed) and package counts. */
export const ReleaseDetailSchema = ReleaseSummarySchema.extend({
  dists: z.array(
    z.object({ dist: z.string(), changed: z.boolean(), generated_at: nullableString, signed_by: nullableString }),
  ),
  unsigned_dists: z.array(z.string()),
  counts: z.array(z.object({ dist: z.string(), component: z.string(), architecture: z.string(), count: z.number() })),
});
export type ReleaseDetail = z.infer<typeof ReleaseDetailSchema>;

/** `GET …/releases/:id/diff/:other`: at most a thousand of each, and how many there are. */
export const ReleaseDiffSchema = z.object({
  from: z.string(),
  to: z.string(),
  added: z.array(MemberSummarySchema),
  removed: z.array(MemberSummarySchema),
  added_count: z.number(),
  removed_count: z.number(),
});
export type ReleaseDiff = z.infer<typeof ReleaseDiffSchema>;

/** `DELETE …/releases/:id`. */
export const DiscardedReleaseSchema = z.object({ discarded: z.string(), parent: nullableString });
export type DiscardedRelease = z.infer<typeof DiscardedReleaseSchema>;

/** `POST …/releases/:id/activate`. */
export const ActivatedReleaseSchema = z.object({
  release: z.string(),
  previous: nullableString,
  activated_at: z.string(),
});
export type ActivatedRelease = z.infer<typeof ActivatedReleaseSchema>;

/**
 * `GET …/activations`, newest first: `visible_at` is when the edge's pointer in D1 named the
 * release (null while it is pending), which is what the CLI checks a publish against.
 */
export const ActivationLogSchema = z.object({
  activations: z.array(
    z.object({
      release: z.string(),
      previous: nullableString,
      requested_at: z.string(),
      visible_at: nullableString,
    }),
  ),
});
export type ActivationLog = z.infer<typeof ActivationLogSchema>;

// publishing

/** `POST …/dists/:dist/generate`: the unsigned document (TOML, schema/index-document.ts) to sign. */
export const GeneratedSchema = z.object({
  document: z.string(),
  regenerated: z.array(z.string()),
  reused: z.array(z.string()),
});
export type Generated = z.infer<typeof GeneratedSchema>;

/** `POST …/dists/:dist/signed`. */
export const SubmittedSchema = z.object({
  release: z.string(),
  dist: z.string(),
  fingerprint: z.string(),
  activated: z.boolean(),
  unsigned_dists: z.array(z.string()),
});
export type Submitted = z.infer<typeof SubmittedSchema>;

// trusted keys

export const KeySummarySchema = z.object({
  fingerprint: z.string(),
  /** "revoked": the repository saw the key's revocation; it signs nothing here, ever again. */
  status: z.enum(["trusted", "revoked"]),
  user_ids: z.array(z.string()),
  algorithm: z.string(),
  created_at: z.string(),
  expires_at: nullableString,
  added_at: z.string(),
  /** When the repository learned of the revocation. */
  revoked_at: nullableString,
  revocation_reason: nullableString,
});
export type KeySummary = z.infer<typeof KeySummarySchema>;

/** `GET …/keys`. */
export const KeyListSchema = z.object({ keys: z.array(KeySummarySchema) });
export type KeyList = z.infer<typeof KeyListSchema>;

/** `DELETE …/keys/:fingerprint`. */
export const RemovedKeySchema = z.object({ removed: z.string() });
export type RemovedKey = z.infer<typeof RemovedKeySchema>;

// repositories

/** The repository's settings as its object keeps them. */
export const RepositorySettingsSchema = z.object({
  id: z.string(),
  base_url: z.string(),
  may_reuse_versions: z.boolean(),
  retention_days: z.number(),
});
export type RepositorySettings = z.infer<typeof RepositorySettingsSchema>;

/** `GET /api/v1/repositories/{repository}`: what clients need (`armor repo show`, `armor repo setup`). */
export const RepositoryInfoSchema = RepositorySettingsSchema.extend({
  visibility: z.enum(["public", "private"]),
  active_release: nullableString,
  hostnames: z.array(z.string()),
});
export type RepositoryInfo = z.infer<typeof RepositoryInfoSchema>;

/** `POST /admin/v1/repositories`: the request as the server took it (defaults filled in) and the root URL. */
export const CreatedRepositorySchema = z.object({
  id: z.string(),
  visibility: z.enum(["public", "private"]),
  hostnames: z.array(z.string()),
  may_reuse_versions: z.boolean(),
  retention_days: z.number(),
  base_url: z.string(),
});
export type CreatedRepository = z.infer<typeof CreatedRepositorySchema>;

/** `GET /admin/v1/repositories/{repository}`: the edge's row. */
export const RepositoryRowSchema = z.object({
  id: z.string(),
  visibility: z.enum(["public", "private"]),
  active_release: nullableString,
  hostnames: z.array(z.string()),
});
export type RepositoryRowAnswer = z.infer<typeof RepositoryRowSchema>;

/** `GET /admin/v1/repositories`. */
export const RepositoryListSchema = z.object({
  repositories: z.array(
    z.object({
      id: z.string(),
      visibility: z.string(),
      active_release: nullableString,
      created_at: z.string(),
      hostnames: z.array(z.string()),
    }),
  ),
});
export type RepositoryList = z.infer<typeof RepositoryListSchema>;

/** What deleting a repository's object did: `finished` false when R2 failed part way (its alarm finishes it). */
export const DestroyedSchema = z.object({ blobs_deleted: z.number(), finished: z.boolean() });
export type Destroyed = z.infer<typeof DestroyedSchema>;

/** `DELETE /admin/v1/repositories/{repository}`: 200, or 202 when its object's alarm removes the rest. */
export const DeletedRepositorySchema = z.object({ deleted: z.string() }).extend(DestroyedSchema.shape);
export type DeletedRepository = z.infer<typeof DeletedRepositorySchema>;

/** `PUT /admin/v1/repositories/{repository}/hostnames/{host}`. */
export const HostnameAddedSchema = z.object({ hostname: z.string(), repository: z.string() });
export type HostnameAdded = z.infer<typeof HostnameAddedSchema>;

// maintenance (admin)

/** `GET …/stats`: counts, bytes and the dirty indexes of the open release. */
export const StatsSchema = z.object({
  repository: z.string(),
  open_release: nullableString,
  active_release: nullableString,
  packages: z.number(),
  package_bytes: z.number(),
  releases: z.number(),
  memberships: z.number(),
  membership_rows: z.number(),
  index_files: z.number(),
  index_bytes: z.number(),
  dirty_indexes: z.number(),
  trusted_keys: z.number(),
  revoked_keys: z.number(),
  activations: z.number(),
  dirty: z.array(z.string()),
});
export type Stats = z.infer<typeof StatsSchema>;

/** `POST …/reindex`. */
export const ReindexedSchema = z.object({ release: z.string(), generation: z.number(), dirty: z.number() });
export type Reindexed = z.infer<typeof ReindexedSchema>;

/** `POST …/fsck`: every blob a row points at that is missing, or of another size or hash. */
export const FsckSchema = z.object({
  checked: z.number(),
  problems: z.array(z.object({ sha256: z.string(), kind: z.string(), problem: z.string() })),
});
export type Fsck = z.infer<typeof FsckSchema>;

/** `POST …/gc`. */
export const CollectedSchema = z.object({
  releases_deleted: z.array(z.string()),
  packages_deleted: z.number(),
  blobs_deleted: z.number(),
  bytes_freed: z.number(),
});
export type Collected = z.infer<typeof CollectedSchema>;
