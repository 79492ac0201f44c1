/**
 * What every RPC method returns (STYLE.md "Errors"): plain data, or an expected failure as an
 * `ApiError` value that the Worker maps to its HTTP status. Over RPC only an error's name and
 * message would survive a throw, so the object throws only for bugs.
 */
import { type ApiError, apiError } from "../../schema/errors.ts";
import type { Result } from "../../schema/result.ts";

export type Outcome<T> = Result<T, ApiError>;

export const ok = <T>(value: T): Outcome<T> => ({ ok: true, value });

export const err = (code: ApiError["code"], message: string, details?: Record<string, unknown>): Outcome<never> => ({
  ok: false,
  error: apiError(code, message, details),
});

/** An error value built elsewhere (pool-paths.ts), as an outcome. */
export const refused = (error: ApiError): Outcome<never> => ({ ok: false, error });

export const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
