/**
 * Every expected failure of the API, as a stable snake_case code (STYLE.md "Errors"). The object
 * returns these as values; the Worker maps each code to an HTTP status in one exhaustive switch
 * (worker/errors.ts) and renders `{ "error": { "code", "message", "details"? } }`.
 */

export const API_ERROR_CODES = [
  // requests
  "invalid_request",
  "invalid_path",
  "method_not_allowed",
  "length_required",
  "body_too_large",
  "unauthorized",
  "forbidden",
  // uploads
  "invalid_package",
  "hash_mismatch",
  "size_mismatch",
  "version_exists",
  "filename_exists",
  "upload_not_found",
  // lookups
  "not_found",
  "unknown_host",
  "repository_not_found",
  "release_not_found",
  "dist_not_found",
  "package_not_found",
  "key_not_found",
  "snapshot_not_found",
  // repositories
  "repository_exists",
  "hostname_taken",
  // releases and publishing
  "release_open",
  "no_open_release",
  "release_immutable",
  "release_unsigned",
  "release_expired",
  "stale_generation",
  "malformed_document",
  "release_mismatch",
  "bad_signature",
  "untrusted_key",
  "activation_pending",
  // trusted keys
  "invalid_key",
  "secret_key",
  "key_expired",
  "key_revoked",
  "key_cannot_sign",
  // webhooks
  "webhook_not_found",
  "too_many_webhooks",
  // dependencies and bugs
  "unavailable",
  "internal_error",
] as const;

/** One of API_ERROR_CODES: the OpenAPI document lists them all, each under its HTTP status. */
export type ApiErrorCode = (typeof API_ERROR_CODES)[number];

export interface ApiError {
  code: ApiErrorCode;
  message: string;
  /** Plain data that helps a client act: the conflicting version, the unsigned dists, the deb error code. */
  details?: Record<string, unknown>;
}

/** Build an error value; `details` is omitted when empty so the wire envelope stays minimal. */
export function apiError(code: ApiErrorCode, message: string, details?: Record<string, unknown>): ApiError {
  return details === undefined ? { code, message } : { code, message, details };
}
