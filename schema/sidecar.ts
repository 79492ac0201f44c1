/**
 * The contract between the edge Worker and the accounts sidecar (DESIGN.md §6).
 *
 * The Worker calls `POST /v1/authorize` and the `/v1/…` management endpoints it proxies for the
 * CLI. Every Worker → sidecar request is signed: `x-armor-timestamp` (unix seconds) and
 * `x-armor-signature` = hex HMAC-SHA256(secret, `${timestamp}\n${method}\n${path}\n${body}`).
 * The sidecar refuses a bad signature, and a timestamp more than `REPLAY_WINDOW_SECONDS` away
 * from its clock (a replay), with 401 `bad_signature`.
 */
import { z } from "zod";
import { RepositoryIdSchema } from "./index-document.ts";

export const REPLAY_WINDOW_SECONDS = 60;
export const TIMESTAMP_HEADER = "x-armor-timestamp";
export const SIGNATURE_HEADER = "x-armor-signature";

/** The string both sides sign. */
export function signedPayload(timestamp: string, method: string, path: string, body: string): string {
  return `${timestamp}\n${method.toUpperCase()}\n${path}\n${body}`;
}

/** What a request wants to do. `read`: viewer; `write`: uploader; `admin`: admin (of the repository, or of the platform when repository is null). */
export const ActionSchema = z.enum(["read", "write", "admin"]);
export type Action = z.infer<typeof ActionSchema>;

export const RoleSchema = z.enum(["viewer", "uploader", "admin"]);
export type Role = z.infer<typeof RoleSchema>;

/** The least role an action needs. */
export const REQUIRED_ROLE: Record<Action, Role> = { read: "viewer", write: "uploader", admin: "admin" };

export const AuthorizeRequestSchema = z.object({
  token: z.string().min(1).max(512),
  /** null: a platform-level action (create or list repositories), which only platform admins may do. */
  repository: RepositoryIdSchema.nullable(),
  action: ActionSchema,
});
export type AuthorizeRequest = z.infer<typeof AuthorizeRequestSchema>;

export const AuthorizeResponseSchema = z.object({
  allowed: z.boolean(),
  /** Who the token belongs to, when the token is valid. */
  principal: z.object({ account: z.string(), token_id: z.string(), platform_admin: z.boolean() }).nullable(),
  /** The role the principal holds on the repository (null: none). */
  role: RoleSchema.nullable(),
  /** Why not, when not allowed. */
  reason: z.enum(["unknown_token", "revoked", "expired", "no_grant", "insufficient_role"]).nullable(),
  required_role: RoleSchema,
});
export type AuthorizeResponse = z.infer<typeof AuthorizeResponseSchema>;

/** Tokens as the CLI manages them (`armor token create|list|revoke`). */
export const CreateTokenSchema = z.object({
  name: z.string().min(1).max(100),
  /** Platform admins may create tokens for another account. */
  account: z.string().min(1).max(100).optional(),
  expires_in_days: z.number().int().min(1).max(3650).optional(),
});

export const TokenSchema = z.object({
  id: z.string(),
  account: z.string(),
  name: z.string(),
  /** The public prefix the token starts with (`armor_abcd1234`), for recognizing it; never the secret. */
  prefix: z.string(),
  created_at: z.string(),
  expires_at: z.string().nullable(),
  last_used_at: z.string().nullable(),
  revoked_at: z.string().nullable(),
});
export type Token = z.infer<typeof TokenSchema>;

/** A new token: the secret is in `token`, shown this once and stored only as a hash. */
export const CreatedTokenSchema = TokenSchema.extend({ token: z.string() });

export const GrantSchema = z.object({
  repository: RepositoryIdSchema,
  /** Grant to an account (all its tokens) or to a single token (by id). */
  account: z.string().min(1).max(100).optional(),
  token_id: z.string().min(1).max(100).optional(),
  role: RoleSchema,
});
export type Grant = z.infer<typeof GrantSchema>;

/** A grant as the sidecar answers with it: exactly one of account and token_id, and when it was made. */
export const GrantEntrySchema = GrantSchema.extend({ created_at: z.string() });
export type GrantEntry = z.infer<typeof GrantEntrySchema>;

/** `GET /v1/grants?repository=…` (`armor access list`). */
export const GrantListSchema = z.object({ grants: z.array(GrantEntrySchema) });

/** `GET /v1/tokens` (`armor token list`). */
export const TokenListSchema = z.object({ tokens: z.array(TokenSchema) });

/**
 * `GET /api/v1/whoami`: who a token is, and what it may do. The operator token (the deployment's
 * break-glass credential) is not an account: `kind: "operator"`, no token row, no grants listed.
 */
export const WhoamiSchema = z.object({
  kind: z.enum(["token", "operator"]),
  account: z.string(),
  platform_admin: z.boolean(),
  token: TokenSchema.nullable(),
  grants: z.array(z.object({ repository: RepositoryIdSchema, role: RoleSchema, via: z.enum(["account", "token"]) })),
});
export type Whoami = z.infer<typeof WhoamiSchema>;

/** An account on the wire. Its name is its identity in every request; the row id never leaves. */
export const AccountSchema = z.object({ name: z.string(), platform_admin: z.boolean(), created_at: z.string() });
export type Account = z.infer<typeof AccountSchema>;

/** `GET /v1/accounts` (`armor account list`). */
export const AccountListSchema = z.object({ accounts: z.array(AccountSchema) });

export const CreateAccountSchema = z.object({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, { message: "must be lowercase letters, digits and -" }),
  platform_admin: z.boolean().default(false),
});
