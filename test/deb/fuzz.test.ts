import { describe, inject, it } from "vitest";
import { readDeb } from "../../deb/deb-reader.ts";
import { chunkedStream, fromBase64 } from "../helpers/bytes.ts";
import { prng } from "../helpers/prng.ts";

/** Flip bytes, truncate, or splice: the damage a network, a bad tool or an attacker produces. */
function mutate(bytes: Uint8Array, random: () => number): Uint8Array {
  const out = bytes.slice();
  const kind = Math.floor(random() * 3);
  if (kind === 0) {
    // Bias flips toward the headers, where the parser makes its decisions.
    const span = random() < 0.7 ? Math.min(out.length, 1024) : out.length;
    for (let i = 0, n = 1 + Math.floor(random() * 8); i < n; i++) {
      out[Math.floor(random() * span)] = Math.floor(random() * 256);
    }
    return out;
  }
  if (kind === 1) return out.subarray(0, Math.floor(random() * out.length));
  const at = Math.floor(random() * out.length);
  const junk = Uint8Array.from({ length: 1 + Math.floor(random() * 64) }, () => Math.floor(random() * 256));
  return new Uint8Array([...out.subarray(0, at), ...junk, ...out.subarray(at)]);
}

describe("readDeb under random damage", () => {
  // The small fixtures (all but the real Debian packages) keep this fast in both runtimes.
  const seeds = inject("debs").filter((d) => d.size < 20_000);

  it("never throws: every damaged package is accepted or refused with a code and a message", async ({ expect }) => {
    expect(seeds.length).toBeGreaterThanOrEqual(6);
    const random = prng(7);
    const outcomes = new Map<string, number>();
    for (const seed of seeds) {
      const bytes = fromBase64(seed.base64);
      for (let i = 0; i < 150; i++) {
        const damaged = mutate(bytes, random);
        const result = await readDeb(chunkedStream(damaged, 1 + Math.floor(random() * 4096)));
        const label = result.ok ? "accepted" : result.error.code;
        if (!result.ok) expect(result.error.message.length, `${seed.name} #${i}`).toBeGreaterThan(10);
        outcomes.set(label, (outcomes.get(label) ?? 0) + 1);
      }
    }
    // Damage must mostly be caught, and caught in many different places.
    expect(outcomes.size).toBeGreaterThanOrEqual(8);
    expect((outcomes.get("accepted") ?? 0) / (seeds.length * 150)).toBeLessThan(0.5);
  });
});
