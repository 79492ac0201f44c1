/**
 * The sidecar's expected failures (STYLE.md "Errors"): one code per failure, one exhaustive switch
 * from code to HTTP status, one class that carries a failure out of a handler to `app.onError`,
 * which renders `{ "error": { "code", "message", "details"? } }`.
 *
 * The codes are the sidecar's own wire contract with the Worker. `conflict` and a 401
 * `bad_signature` are not in schema/errors.ts: the Worker never passes `bad_signature` on to a
 * client (it is the Worker's own misconfiguration), and it passes the rest through unchanged.
 */
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { inputReaders } from "../http/input.ts";

export type SidecarErrorCode =
  | "invalid_request"
  | "body_too_large"
  | "unauthorized"
  | "bad_signature"
  | "forbidden"
  | "not_found"
  | "conflict"
  | "unavailable"
  | "internal_error";

export interface SidecarError {
  code: SidecarErrorCode;
  message: string;
  details?: Record<string, unknown>;
}

/** The HTTP status of each error code. */
export function statusOf(code: SidecarErrorCode): ContentfulStatusCode {
  switch (code) {
    case "invalid_request":
      return 400;
    case "unauthorized":
    case "bad_signature":
      return 401;
    case "forbidden":
      return 403;
    case "not_found":
      return 404;
    case "conflict":
      return 409;
    case "body_too_large":
      return 413;
    case "internal_error":
      return 500;
    case "unavailable":
      return 503;
  }
}

/** An expected failure thrown out of a handler; `app.onError` renders it. */
export class SidecarFailure extends Error {
  readonly error: SidecarError;

  constructor(error: SidecarError) {
    super(error.message);
    this.name = "SidecarFailure";
    this.error = error;
  }
}

/** Throw an expected failure for `app.onError` to render. */
export function fail(code: SidecarErrorCode, message: string, details?: Record<string, unknown>): never {
  throw new SidecarFailure(details === undefined ? { code, message } : { code, message, details });
}

/** The error envelope `{ "error": { code, message, details? } }` with its status. */
export function errorResponse(c: Context, error: SidecarError): Response {
  return c.json({ error }, statusOf(error.code));
}

/** Request input, read and parsed as the Worker reads its own (http/input.ts). */
export const { parseWith, jsonBody } = inputReaders({
  raise: (failure) => fail(failure.code, failure.message, failure.details),
  wording: "plain",
});
