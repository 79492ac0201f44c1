import { describe, it } from "vitest";
import { debFileName, poolPath, poolPrefix } from "../../deb/pool.ts";

describe("pool paths", () => {
  it.for([
    ["hello", "hello", "2.10-3", "amd64", "pool/main/h/hello/hello_2.10-3_amd64.deb"],
    ["libzstd1", "libzstd", "1.5.4+dfsg2-5", "amd64", "pool/main/libz/libzstd/libzstd1_1.5.4+dfsg2-5_amd64.deb"],
    [
      "bsdutils",
      "util-linux",
      "1:2.38.1-5+deb12u3",
      "amd64",
      "pool/main/u/util-linux/bsdutils_2.38.1-5+deb12u3_amd64.deb",
    ],
    ["lib", "lib", "1.0", "all", "pool/main/l/lib/lib_1.0_all.deb"],
    ["libc6", "glibc", "2.36-9", "arm64", "pool/main/g/glibc/libc6_2.36-9_arm64.deb"],
  ] as const)("%s (source %s)", ([pkg, source, version, arch, expected], { expect }) => {
    expect(poolPath("main", { package: pkg, source, version, architecture: arch })).toEqual({
      ok: true,
      value: expected,
    });
  });

  it("splits lib* sources by four letters and others by one", ({ expect }) => {
    expect(poolPrefix("libcap2")).toBe("libc");
    expect(poolPrefix("linux")).toBe("l");
    expect(debFileName({ package: "a", version: "3:1.0", architecture: "all" })).toBe("a_1.0_all.deb");
  });

  it.for(["stable/v17", "updates/main", "a/b/c/d"])(
    "accepts component %j, each segment a component name",
    (component, { expect }) => {
      const r = poolPath(component, { package: "a", source: "a", version: "1", architecture: "all" });
      expect(r.ok && r.value).toBe(`pool/${component}/a/a/a_1_all.deb`);
    },
  );

  it.for(["", "Main", "../main", "main/..", "main//extra", "/main", "main/", "a/b/c/d/e", "ma in", "-main", "main/-x"])(
    "refuses component %j",
    (component, { expect }) => {
      const r = poolPath(component, { package: "a", source: "a", version: "1", architecture: "all" });
      expect(r.ok ? "accepted" : r.error.code).toBe("bad_component");
    },
  );
});
