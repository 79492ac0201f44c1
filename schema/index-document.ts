/**
 * The documents of the publish flow (DESIGN.md §3): `armor index generate` prints an unsigned
 * document, `armor index sign` adds the signatures, `armor index upload` sends it back. TOML on
 * the wire and on disk, so a person can read what they are about to sign.
 */
import { parse, stringify } from "smol-toml";
import { z } from "zod";
import type { Result } from "./result.ts";

export const INDEX_DOCUMENT_FORMAT = "armor-index/1";

/** "{owner}/{name}", both lowercase DNS-label-like segments. */
export const RepositoryIdSchema = z
  .string()
  .regex(/^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?\/[a-z0-9](?:[a-z0-9._-]{0,98}[a-z0-9])?$/, {
    message: 'must be "owner/name" in lowercase letters, digits, "-" (and "." or "_" in the name)',
  });

/** A hostname a repository is served at (apt.releases.example.com): at least one dot, lowercase. */
export const RepositoryHostnameSchema = z
  .string()
  .toLowerCase()
  .regex(/^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, {
    message: "must be a fully qualified DNS name such as apt.example.com",
  });

/**
 * How a user names a repository everywhere (CLI flags, ARMOR_REPOSITORY, the config file, the API):
 * `owner/name`, or any hostname it is served at (DESIGN.md §2). The two never overlap: an id has a
 * slash and its owner no dot; a hostname has a dot and no slash.
 */
export const RepositoryRefSchema = z.union([RepositoryIdSchema, RepositoryHostnameSchema], {
  error: () => ({
    message:
      'must be "owner/name" (lowercase letters, digits, "-"; "." or "_" in the name) or a hostname it is served at',
  }),
});

/** A dist (suite) name: one path segment, as Debian names them (stable, bookworm-backports). */
export const DistSchema = z.string().regex(/^[a-z0-9][a-z0-9.+~-]{0,63}$/, {
  message: "must be lowercase letters, digits and . + ~ - (e.g. stable), at most 64 characters",
});

export const ReleaseIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, {
  message: "must be 1 to 64 letters, digits, - or _",
});

/** OpenPGP v4 (40 hex digits) or v6 (64 hex digits) fingerprint, uppercase as gpg prints it. */
export const FingerprintSchema = z
  .string()
  .transform((s) => s.replace(/\s+/g, "").toUpperCase())
  .pipe(z.string().regex(/^(?:[0-9A-F]{40}|[0-9A-F]{64})$/, { message: "must be a 40- or 64-digit hex fingerprint" }));

export const UnsignedIndexDocumentSchema = z.object({
  format: z.literal(INDEX_DOCUMENT_FORMAT),
  repository: RepositoryIdSchema,
  dist: DistSchema,
  release: ReleaseIdSchema,
  /** Bumped by every change to the open release; a signature over an older one is stale. */
  generation: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  generated_at: z.iso.datetime(),
  /** The exact bytes of the Release file to sign. */
  release_text: z
    .string()
    .min(1)
    .max(4 * 1024 * 1024),
});
export type UnsignedIndexDocument = z.infer<typeof UnsignedIndexDocumentSchema>;

export const SignedIndexDocumentSchema = UnsignedIndexDocumentSchema.extend({
  /** Clearsigned Release (dists/{dist}/InRelease). */
  inrelease: z.string().startsWith("-----BEGIN PGP SIGNED MESSAGE-----", {
    message: "must be a clearsigned message (-----BEGIN PGP SIGNED MESSAGE-----)",
  }),
  /** Armored detached signature of release_text (dists/{dist}/Release.gpg). */
  release_gpg: z.string().startsWith("-----BEGIN PGP SIGNATURE-----", {
    message: "must be an armored detached signature (-----BEGIN PGP SIGNATURE-----)",
  }),
  fingerprint: FingerprintSchema,
});
export type SignedIndexDocument = z.infer<typeof SignedIndexDocumentSchema>;

export interface MalformedDocument {
  code: "malformed_document";
  message: string;
}

/** Parse TOML text into a document; every failure names what to fix, never a raw parser error. */
export function parseIndexDocument<S extends z.ZodType>(
  text: string,
  schema: S,
): Result<z.infer<S>, MalformedDocument> {
  let data: unknown;
  try {
    data = parse(text);
  } catch (cause) {
    const detail = cause instanceof Error ? (cause.message.split("\n")[0] ?? "") : "";
    return { ok: false, error: { code: "malformed_document", message: `the document is not valid TOML: ${detail}` } };
  }
  const parsed = schema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? issue.path.join(".") : "document";
    const message = `${where}: ${issue?.message ?? "invalid"}`;
    return {
      ok: false,
      error: { code: "malformed_document", message: `the document is not an Armor index document (${message})` },
    };
  }
  return { ok: true, value: parsed.data };
}

/** Serialize a document; `parseIndexDocument` gives back exactly the same values, Release bytes included. */
export function formatIndexDocument(doc: UnsignedIndexDocument | SignedIndexDocument): string {
  const header = "inrelease" in doc ? "signed" : "unsigned; sign it with `armor index sign`";
  return `# Armor index document (${header})\n${stringify(doc)}\n`;
}
