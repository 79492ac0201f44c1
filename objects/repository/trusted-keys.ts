/**
 * The keys a repository trusts to sign its Release files (`trusted_keys`; DESIGN.md §4b), and the
 * archive keyring apt users install. What a key text does (trust a key, merge an export, record a
 * revocation for good) is pgp/keys.ts's to judge; this module keeps what it decided. A revoked
 * key's row is never deleted and its revocation never cleared: it is how the repository
 * remembers never to trust the key again, and how the keyring tells apt clients.
 */
import { buildKeyring, readKeySubmission } from "../../pgp/keys.ts";
import type { KeyList, KeySummary, RemovedKey } from "../../schema/responses.ts";
import { err, iso, type Outcome, ok } from "./outcome.ts";
import { num, optNum, optStr, Sql, str } from "./sql.ts";

/** When the key set last changed (ms), at least a second after the change before it. */
const KEYS_CHANGED_AT = "keys_changed_at";

export interface KeyRecord {
  fingerprint: string;
  /** The public key with every signature it was given, revocations included (pgp/keys.ts). */
  armored: string;
  userIds: string[];
  algorithm: string;
  createdAt: string;
  expiresAt: string | null;
  addedAt: number;
  /** When the repository learned of the key's revocation (migration 8); null while it is trusted. */
  revokedAt: number | null;
  revocationReason: string | null;
}

export class TrustedKeys {
  readonly #storage: DurableObjectStorage;
  readonly #sql: Sql;

  constructor(storage: DurableObjectStorage) {
    this.#storage = storage;
    this.#sql = new Sql(storage.sql);
  }

  /**
   * Take a key text (see RepositoryObject.addKey): a key to trust or to merge, a revoked key, or
   * a revocation certificate. Refused, changing nothing: what pgp/keys.ts refuses, and an
   * unrevoked export of a key already revoked (`key_revoked`).
   */
  async add(armored: string): Promise<Outcome<KeySummary>> {
    const held = this.all();
    const read = await readKeySubmission(armored, held);
    if (!read.ok) return err(read.error.code, read.error.message);
    const { key, revocation, revokes } = read.value;
    const before = held.find((k) => k.fingerprint === key.fingerprint);
    if (before !== undefined && before.revokedAt !== null && !revokes) {
      return err(
        "key_revoked",
        `Key ${key.fingerprint} was revoked (this repository learned it on ${new Date(before.revokedAt).toISOString()}): it can never be trusted again. Sign with another key and add that one.`,
        { fingerprint: key.fingerprint, revoked_at: new Date(before.revokedAt).toISOString() },
      );
    }
    const now = Date.now();
    const record: KeyRecord = {
      fingerprint: key.fingerprint,
      armored: key.armored,
      userIds: key.userIds,
      algorithm: key.algorithm,
      createdAt: key.createdAt,
      expiresAt: key.expiresAt,
      addedAt: before?.addedAt ?? now,
      revokedAt: revocation === null ? null : (before?.revokedAt ?? now),
      revocationReason: revocation === null ? null : (before?.revocationReason ?? revocation.reason),
    };
    this.#upsert(record);
    this.#changed(now);
    return ok(summarizeKey(record));
  }

  list(): KeyList {
    return { keys: this.all().map(summarizeKey) };
  }

  /** Stop trusting a key; a revoked one stays (its row is its revocation). */
  remove(fingerprint: string): Outcome<RemovedKey> {
    const key = this.all().find((k) => k.fingerprint === fingerprint);
    if (key === undefined) return err("key_not_found", `no trusted key ${fingerprint} in this repository`);
    if (key.revokedAt !== null) {
      return err(
        "key_revoked",
        `Key ${fingerprint} is revoked and already signs nothing; it is kept so that it is never trusted again and so the archive keyring carries its revocation to apt clients.`,
        { fingerprint, revoked_at: new Date(key.revokedAt).toISOString() },
      );
    }
    this.#delete(fingerprint);
    this.#changed(Date.now());
    return ok({ removed: fingerprint });
  }

  /** Every key, armored and binary, with when the key set last changed; null with no keys. */
  async keyring(): Promise<{ armored: string; binary: Uint8Array; updatedAt: number } | null> {
    const keys = this.all();
    if (keys.length === 0) return null;
    const ring = await buildKeyring(keys.map((k) => k.armored));
    const changed = this.#storage.kv.get<number>(KEYS_CHANGED_AT) ?? 0;
    return { ...ring, updatedAt: Math.max(changed, ...keys.map((k) => Math.max(k.addedAt, k.revokedAt ?? 0))) };
  }

  /** Primary fingerprints of the revoked keys: what they signed in the open release needs signing again. */
  revokedSigners(): Set<string> {
    return new Set(
      this.all()
        .filter((k) => k.revokedAt !== null)
        .map((k) => k.fingerprint),
    );
  }

  /**
   * Record that the key set changed (a key added, merged, revoked or removed): the archive
   * keyring's Last-Modified, which `armor keyring build` turns into a version that grows with every
   * change, even one that leaves no newer key behind (a removal).
   */
  #changed(at: number): void {
    this.#storage.kv.put(KEYS_CHANGED_AT, Math.max(at, (this.#storage.kv.get<number>(KEYS_CHANGED_AT) ?? 0) + 1000));
  }

  // SQL

  all(): KeyRecord[] {
    return this.#sql.all("SELECT * FROM trusted_keys ORDER BY added_at, fingerprint").map((r) => ({
      fingerprint: str(r.fingerprint),
      armored: str(r.armored),
      userIds: parseStringArray(str(r.user_ids)),
      algorithm: str(r.algorithm),
      createdAt: str(r.created_at),
      expiresAt: optStr(r.expires_at),
      addedAt: num(r.added_at),
      revokedAt: optNum(r.revoked_at),
      revocationReason: optStr(r.revocation_reason),
    }));
  }

  /**
   * Store a key as the caller merged it. A revocation, once recorded, stays: `revoked_at` and its
   * reason are never cleared, whatever is written later.
   */
  #upsert(k: KeyRecord): void {
    this.#sql.run(
      `INSERT INTO trusted_keys (fingerprint, armored, user_ids, algorithm, created_at, expires_at, added_at,
         revoked_at, revocation_reason)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (fingerprint) DO UPDATE SET armored = excluded.armored, user_ids = excluded.user_ids,
         expires_at = excluded.expires_at, revoked_at = coalesce(revoked_at, excluded.revoked_at),
         revocation_reason = iif(revoked_at IS NULL, excluded.revocation_reason, revocation_reason)`,
      k.fingerprint,
      k.armored,
      JSON.stringify(k.userIds),
      k.algorithm,
      k.createdAt,
      k.expiresAt,
      k.addedAt,
      k.revokedAt,
      k.revocationReason,
    );
  }

  /** Stop trusting a key: only one never revoked (a revoked key's row is its revocation, kept for good). */
  #delete(fingerprint: string): boolean {
    return this.#sql.run("DELETE FROM trusted_keys WHERE fingerprint = ? AND revoked_at IS NULL", fingerprint) > 0;
  }
}

function summarizeKey(k: KeyRecord): KeySummary {
  return {
    fingerprint: k.fingerprint,
    status: k.revokedAt === null ? "trusted" : "revoked",
    user_ids: k.userIds,
    algorithm: k.algorithm,
    created_at: k.createdAt,
    expires_at: k.expiresAt,
    added_at: new Date(k.addedAt).toISOString(),
    revoked_at: iso(k.revokedAt),
    revocation_reason: k.revocationReason,
  };
}

function parseStringArray(text: string): string[] {
  const data: unknown = JSON.parse(text);
  if (!Array.isArray(data) || !data.every((x) => typeof x === "string")) throw new Error("expected a string array");
  return data;
}
