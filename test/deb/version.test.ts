import { describe, inject, it } from "vitest";
import { compareVersions, parseVersion, versionWithoutEpoch } from "../../deb/version.ts";

describe("compareVersions agrees with dpkg --compare-versions", () => {
  const pairs = inject("versionPairs");

  it("on at least 2,000 pairs from a real Debian Packages index", ({ expect }) => {
    expect(pairs.length).toBeGreaterThanOrEqual(2000);
    const disagreements = pairs.filter((p) => compareVersions(p.a, p.b) !== p.dpkg);
    expect(disagreements).toEqual([]);
    // The sample must exercise all three outcomes, or it proves little.
    expect(new Set(pairs.map((p) => p.dpkg))).toEqual(new Set([-1, 0, 1]));
  });

  it("is antisymmetric on the same pairs", ({ expect }) => {
    for (const p of pairs) expect(compareVersions(p.b, p.a)).toBe(-p.dpkg || 0);
  });
});

describe("parseVersion (Debian Policy §5.6.12)", () => {
  it.for([
    ["1.0", { epoch: 0, upstream: "1.0", revision: "" }],
    ["1:2.66-4+deb12u3+b1", { epoch: 1, upstream: "2.66", revision: "4+deb12u3+b1" }],
    ["2.0-rc1-3", { epoch: 0, upstream: "2.0-rc1", revision: "3" }],
    ["1:1.2:3-1", { epoch: 1, upstream: "1.2:3", revision: "1" }],
    ["0.9~rc1", { epoch: 0, upstream: "0.9~rc1", revision: "" }],
  ] as const)("accepts %s", ([text, expected], { expect }) => {
    expect(parseVersion(text)).toEqual({ version: expected });
  });

  it.for(["", "v1.0", "1.0-", "a:1.0", "1.0 beta", "1.2:3", "1.0-rc_1", "-1", ":1.0", "1.0/2", "1.0\n2"])(
    "refuses %j",
    (text, { expect }) => {
      expect(parseVersion(text)).toHaveProperty("reason");
    },
  );

  it("drops the epoch for file names", ({ expect }) => {
    expect(versionWithoutEpoch("1:2.38.1-5")).toBe("2.38.1-5");
    expect(versionWithoutEpoch("2.38.1-5")).toBe("2.38.1-5");
  });
});
