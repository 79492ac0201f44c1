/**
 * One place maps every error code to its HTTP status (STYLE.md "Errors"), and one class carries an
 * expected failure out of a handler to `app.onError`, which renders the envelope
 * `{ "error": { "code", "message", "details"? } }`.
 */
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { inputReaders } from "../http/input.ts";
import { type ApiError, type ApiErrorCode, apiError } from "../schema/errors.ts";
import { JSON_BODY_LIMIT } from "../schema/limits.ts";
import type { Result } from "../schema/result.ts";

export function statusOf(code: ApiErrorCode): ContentfulStatusCode {
  switch (code) {
    case "invalid_request":
    case "invalid_path":
    case "invalid_package":
    case "hash_mismatch":
    case "size_mismatch":
    case "malformed_document":
    case "invalid_key":
    case "secret_key":
    case "key_expired":
    case "key_revoked":
    case "key_cannot_sign":
      return 400;
    case "unauthorized":
      return 401;
    case "forbidden":
      return 403;
    case "not_found":
    case "unknown_host":
    case "repository_not_found":
    case "release_not_found":
    case "dist_not_found":
    case "package_not_found":
    case "key_not_found":
    case "snapshot_not_found":
    case "upload_not_found":
    case "webhook_not_found":
      return 404;
    case "version_exists":
    case "filename_exists":
    case "repository_exists":
    case "hostname_taken":
    case "release_open":
    case "no_open_release":
    case "release_immutable":
    case "release_unsigned":
    case "stale_generation":
    case "too_many_webhooks":
      return 409;
    case "method_not_allowed":
      return 405;
    case "release_expired":
      return 410;
    case "length_required":
      return 411;
    case "body_too_large":
      return 413;
    case "release_mismatch":
    case "bad_signature":
    case "untrusted_key":
      return 422;
    case "internal_error":
      return 500;
    case "activation_pending":
    case "unavailable":
      return 503;
  }
}

/** An expected failure thrown out of a handler; `app.onError` renders it. */
export class ApiFailure extends Error {
  readonly error: ApiError;
  readonly headers: Record<string, string>;

  constructor(error: ApiError, headers: Record<string, string> = {}) {
    super(error.message);
    this.name = "ApiFailure";
    this.error = error;
    this.headers = headers;
  }
}

export function fail(code: ApiErrorCode, message: string, details?: Record<string, unknown>): never {
  throw new ApiFailure(apiError(code, message, details));
}

/** Unwrap an object's result, or throw its error for `onError` to render. */
export function unwrap<T>(result: Result<T, ApiError>): T {
  if (!result.ok) throw new ApiFailure(result.error);
  return result.value;
}

export function errorResponse(c: Context, error: ApiError, headers: Record<string, string> = {}): Response {
  const res = c.json({ error }, statusOf(error.code));
  for (const [k, v] of Object.entries(headers)) res.headers.set(k, v);
  res.headers.set("vary", "Authorization");
  return res;
}

/** Request input, read and parsed as the sidecar reads its own (http/input.ts). */
export const { parseWith, jsonBody } = inputReaders({
  raise: (failure) => fail(failure.code, failure.message, failure.details),
  bodyLimit: JSON_BODY_LIMIT,
  wording: "zod",
});
