-- Accounts, API tokens, the repositories the account layer knows, grants and the audit log
-- (DESIGN.md §6). Applied by sidecar/migrate.ts, on PostgreSQL and on PGlite alike.
-- Append-only: never edit this file once applied; add 0002_….sql instead.

CREATE TABLE accounts (
  id text PRIMARY KEY DEFAULT gen_random_uuid()::text,
  name text NOT NULL UNIQUE CHECK (name ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
  platform_admin boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- A token is `armor_<prefix>_<secret>`. Only the SHA-256 of the whole token is stored; the prefix
-- is public (shown in listings) and finds the row to compare hashes with.
CREATE TABLE api_tokens (
  id text PRIMARY KEY DEFAULT gen_random_uuid()::text,
  account_id text NOT NULL REFERENCES accounts (id),
  name text NOT NULL,
  prefix text NOT NULL UNIQUE CHECK (prefix ~ '^[a-z2-7]{8}$'),
  hash text NOT NULL CHECK (hash ~ '^[0-9a-f]{64}$'),
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz,
  last_used_at timestamptz,
  revoked_at timestamptz
);
CREATE INDEX api_tokens_account ON api_tokens (account_id);

-- Repositories as the Worker creates and deletes them ("owner/name"), so grants can name them.
CREATE TABLE repositories (
  id text PRIMARY KEY,
  created_at timestamptz NOT NULL DEFAULT now(),
  -- null: registered by the Worker's operator, not by an account
  created_by text REFERENCES accounts (id)
);

-- A role on a repository, held by an account (all its tokens) or by one token: exactly one of the two.
CREATE TABLE grants (
  repository text NOT NULL REFERENCES repositories (id),
  account_id text REFERENCES accounts (id),
  token_id text REFERENCES api_tokens (id),
  role text NOT NULL CHECK (role IN ('viewer', 'uploader', 'admin')),
  created_at timestamptz NOT NULL DEFAULT now(),
  CHECK ((account_id IS NULL) <> (token_id IS NULL))
);
CREATE UNIQUE INDEX grants_account ON grants (repository, account_id) WHERE account_id IS NOT NULL;
CREATE UNIQUE INDEX grants_token ON grants (repository, token_id) WHERE token_id IS NOT NULL;
CREATE INDEX grants_account_id ON grants (account_id);
CREATE INDEX grants_token_id ON grants (token_id);

-- Every change to accounts, tokens, repositories and grants, written in the same transaction as
-- the change. Append-only: the triggers below refuse UPDATE, DELETE and TRUNCATE for every role
-- but a superuser who drops them on purpose.
CREATE TABLE audit_log (
  id bigserial PRIMARY KEY,
  at timestamptz NOT NULL DEFAULT now(),
  -- the account that made the change; "(operator)" for the Worker's operator, "(system)" for the
  -- first start (parentheses: no account can have such a name)
  actor text NOT NULL,
  -- e.g. token.create, grant.set
  action text NOT NULL,
  -- the repository the change concerns, when it concerns one (for GET /v1/audit?repository=)
  repository text,
  -- what changed: an account name, a token id, a repository id, account:<name> or token:<id>
  subject text NOT NULL,
  details jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX audit_log_repository ON audit_log (repository, id);

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only: % is not allowed', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_log_no_update_or_delete BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
