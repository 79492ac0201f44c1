/** Reading the index documents of the publish flow from files, with errors a person can act on. */
import { readFileSync } from "node:fs";
import type { z } from "zod";
import { parseIndexDocument, UnsignedIndexDocumentSchema } from "../schema/index-document.ts";
import { UserError } from "./errors.ts";

export function readDocument<S extends z.ZodType>(path: string, schema: S, what: string): z.infer<S> {
  return readDocumentWithText(path, schema, what).doc;
}

/** The document and its text as read (stdin can be read only once). */
export function readDocumentWithText<S extends z.ZodType>(
  path: string,
  schema: S,
  what: string,
): { doc: z.infer<S>; text: string } {
  let text: string;
  try {
    text = path === "-" ? readFileSync(0, "utf8") : readFileSync(path, "utf8");
  } catch (cause) {
    throw new UserError(`cannot read ${path}`, { hint: `pass the ${what} document that armor printed`, cause });
  }
  const parsed = parseIndexDocument(text, schema);
  if (!parsed.ok) {
    // The commonest mix-up: `index upload` given what `index generate` printed.
    if (what === "signed" && parseIndexDocument(text, UnsignedIndexDocumentSchema).ok) {
      throw new UserError(`${path} is not signed: it is the unsigned document \`armor index generate\` printed`, {
        hint: `sign it first: armor index sign --key <fingerprint> ${path} > signed.toml, then upload signed.toml (or let \`armor publish\` do all three)`,
        code: "not_signed",
      });
    }
    throw new UserError(`${path}: ${parsed.error.message}`, { hint: `pass the ${what} document, unmodified` });
  }
  return { doc: parsed.value, text };
}
