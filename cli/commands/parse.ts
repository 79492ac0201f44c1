import type { z } from "zod";
import { UserError } from "../errors.ts";

/** Validate a flag or argument with a schema; the error names the flag. */
export function parseOption<S extends z.ZodType>(schema: S, value: unknown, flag: string): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new UserError(`${flag} ${JSON.stringify(value)} ${parsed.error.issues[0]?.message ?? "is invalid"}`, {
    code: "usage",
    exitCode: 2,
  });
}
