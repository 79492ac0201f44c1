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
import type { z } from "zod";

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

/**
 * Parse input with a zod schema. The first issue becomes an `invalid_request` naming the field
 * (`body.name: …`), never zod's own output.
 */
export function parseWith<S extends z.ZodType>(schema: S, data: unknown, what: string): z.infer<S> {
  const parsed = schema.safeParse(data);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  if (issue === undefined) return fail("invalid_request", `${what} is not valid`);
  const where = issue.path.length > 0 ? `${what}.${issue.path.map(String).join(".")}` : what;
  let message = issue.message;
  if (issue.code === "invalid_type") {
    const article = /^[aeiou]/.test(issue.expected) ? "an" : "a";
    message = valueAt(data, issue.path) === undefined ? "is required" : `must be ${article} ${issue.expected}`;
  }
  return fail("invalid_request", `${where}: ${message}`, { field: where });
}

function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let value = data;
  for (const key of path) {
    if (typeof value !== "object" || value === null) return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

/** The request body as JSON (an empty body is `{}`); a body that is not JSON is an `invalid_request`. */
export async function jsonBody<S extends z.ZodType>(c: Context, schema: S): Promise<z.infer<S>> {
  let data: unknown;
  try {
    const text = await c.req.text();
    data = text.trim() === "" ? {} : JSON.parse(text);
  } catch {
    return fail("invalid_request", "the request body must be JSON");
  }
  return parseWith(schema, data, "body");
}
