/**
 * What the repository page says apt thinks of a key (objects/repository/key-policy.ts): judged at a
 * given date, since apt's policy has cut-off dates, with real keys (gpg's SHA-1 self-signature
 * among the fixtures) and keys made here (TEST ONLY).
 */
import { generateKey } from "openpgp";
import { describe, inject, it } from "vitest";
import { keyConcerns } from "../../objects/repository/key-policy.ts";

const keys = inject("keys");
const at = (iso: string) => Date.parse(iso);

function held(
  armored: string,
  fingerprint: string,
  more: { expiresAt?: string | null; revokedAt?: number | null } = {},
) {
  return { armored, fingerprint, expiresAt: more.expiresAt ?? null, revokedAt: more.revokedAt ?? null };
}

describe("keyConcerns", () => {
  it("finds nothing to say about an ed25519 key that does not expire", async ({ expect }) => {
    expect(await keyConcerns(held(keys.trusted.public, keys.trusted.fingerprint), at("2026-12-06T00:00:00Z"))).toEqual(
      [],
    );
  });

  it("refuses a SHA-1 self-signature from 2026-02-01, and warns before; warns of RSA 2048 until 2030", async ({
    expect,
  }) => {
    const key = held(keys.sha1.public, keys.sha1.fingerprint);
    const before = await keyConcerns(key, at("2025-06-01T00:00:00Z"));
    expect(before.map((c) => c.level)).toEqual(["warning", "warning"]);
    expect(before[0]?.message).toMatch(
      /^Primary key: RSA of 2048 bits, which apt in Debian 13 refuses from 2030-02-01/,
    );
    expect(before[1]?.message).toMatch(
      /^Its self-signature is made with SHA-1, which apt in Debian 13 refuses from 2026-02-01/,
    );
    const now = await keyConcerns(key, at("2026-12-06T00:00:00Z"));
    expect(now.map((c) => c.level)).toEqual(["warning", "refused"]);
    expect(now[1]?.message).toContain(`gpg --quick-set-expire ${keys.sha1.fingerprint}`);
    const later = await keyConcerns(key, at("2030-03-01T00:00:00Z"));
    expect(later.map((c) => c.level)).toEqual(["refused", "refused"]);
  });

  it("warns 90 days before expiry, and refuses an expired or revoked key", async ({ expect }) => {
    const key = held(keys.trusted.public, keys.trusted.fingerprint, { expiresAt: "2027-01-15T00:00:00Z" });
    expect(await keyConcerns(key, at("2026-09-01T00:00:00Z"))).toEqual([]);
    const soon = await keyConcerns(key, at("2026-12-06T00:00:00Z"));
    expect(soon).toEqual([
      {
        level: "warning",
        message: expect.stringMatching(/^Expires on 2027-01-15, in 40 days: extend it \(gpg --quick-set-expire /),
      },
    ]);
    const gone = await keyConcerns(key, at("2027-02-01T00:00:00Z"));
    expect(gone).toEqual([
      { level: "refused", message: "Expired on 2027-01-15: apt refuses what it signed (EXPKEYSIG)." },
    ]);
    const revoked = await keyConcerns(
      held(keys.revoked.public, keys.revoked.fingerprint, { revokedAt: at("2026-11-30T00:00:00Z") }),
      at("2026-12-06T00:00:00Z"),
    );
    expect(revoked[0]).toEqual({
      level: "refused",
      message: expect.stringMatching(/^Revoked \(this repository learned it on 2026-11-30\)/),
    });
  });

  it("judges the signing subkey too: a Brainpool one is refused by Ubuntu's apt already", async ({ expect }) => {
    const { publicKey } = await generateKey({
      type: "ecc",
      curve: "ed25519Legacy",
      userIDs: [{ name: "Key Policy Test (TEST ONLY, DO NOT TRUST)" }],
      subkeys: [{ sign: true, type: "ecc", curve: "brainpoolP256r1" }],
      format: "armored",
    });
    const concerns = await keyConcerns(held(publicKey, "TEST"), Date.now());
    expect(concerns).toHaveLength(1);
    expect(concerns[0]?.level).toBe(Date.now() >= at("2028-02-01T00:00:00Z") ? "refused" : "warning");
    expect(concerns[0]?.message).toMatch(
      /^Signing subkey [0-9A-F]{16}: the Brainpool curve brainpoolP256r1, which apt in Ubuntu 24.04 refuses already/,
    );
  });

  it("says so when a stored key no longer parses", async ({ expect }) => {
    expect(await keyConcerns(held("not a key", "X"), Date.now())).toEqual([
      { level: "refused", message: "This key no longer parses; add it again." },
    ]);
  });
});
