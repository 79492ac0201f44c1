/**
 * Reading request input at the trust boundary (STYLE.md "Validation"), for both Hono apps: the
 * Worker and the sidecar. A zod schema's first issue becomes one `invalid_request` naming the
 * field, never zod's own output, and a body that is not JSON is an `invalid_request`, not a 500.
 * Each app raises the failure as its own error type, which its `onError` renders.
 */
import type { Context } from "hono";
import type { z } from "zod";

export interface InputFailure {
  code: "invalid_request" | "body_too_large";
  message: string;
  details?: Record<string, unknown>;
}

export interface InputRules {
  /** Throw the app's own failure for its `onError` to render. */
  raise: (failure: InputFailure) => never;
  /** A body declaring more bytes than this (Content-Length) is refused before it is read. */
  bodyLimit?: number;
  /**
   * How an issue is worded after the field it names: as zod words it (the Worker's API, whose
   * messages this module does not change), or in plain words ("is required", "must be a
   * string"), with the field in `details.field` (the sidecar's).
   */
  wording: "zod" | "plain";
}

export interface InputReaders {
  /** Parse input with a zod schema; the first issue becomes an `invalid_request` naming the field (`body.name: …`). */
  parseWith<S extends z.ZodType>(schema: S, data: unknown, what: string): z.infer<S>;
  /** The request body as JSON (an empty body is `{}`), parsed with `schema`. */
  jsonBody<S extends z.ZodType>(c: Context, schema: S): Promise<z.infer<S>>;
}

export function inputReaders(rules: InputRules): InputReaders {
  const invalid = (message: string, details?: Record<string, unknown>): never =>
    rules.raise(
      details === undefined ? { code: "invalid_request", message } : { code: "invalid_request", message, details },
    );

  function parseWith<S extends z.ZodType>(schema: S, data: unknown, what: string): z.infer<S> {
    const parsed = schema.safeParse(data);
    if (parsed.success) return parsed.data;
    const issue = parsed.error.issues[0];
    if (rules.wording === "zod") {
      const where = issue && issue.path.length > 0 ? `${what}.${issue.path.join(".")}` : what;
      return invalid(`${where}: ${issue?.message ?? "invalid"}`);
    }
    if (issue === undefined) return invalid(`${what} is not valid`);
    const where = issue.path.length > 0 ? `${what}.${issue.path.map(String).join(".")}` : what;
    let message = issue.message;
    if (issue.code === "invalid_type") {
      const article = /^[aeiou]/.test(issue.expected) ? "an" : "a";
      message = valueAt(data, issue.path) === undefined ? "is required" : `must be ${article} ${issue.expected}`;
    }
    return invalid(`${where}: ${message}`, { field: where });
  }

  async function jsonBody<S extends z.ZodType>(c: Context, schema: S): Promise<z.infer<S>> {
    if (rules.bodyLimit !== undefined && Number(c.req.header("content-length") ?? "0") > rules.bodyLimit) {
      return rules.raise({
        code: "body_too_large",
        message: `a JSON request body is at most ${rules.bodyLimit} bytes`,
      });
    }
    let data: unknown;
    try {
      const text = await c.req.text();
      data = text.trim() === "" ? {} : JSON.parse(text);
    } catch {
      return invalid("the request body must be JSON");
    }
    return parseWith(schema, data, "body");
  }

  return { parseWith, jsonBody };
}

function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let value = data;
  for (const key of path) {
    if (typeof value !== "object" || value === null) return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}
