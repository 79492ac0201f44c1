import { describe, it } from "vitest";
import { EXIT, ServerError, UserError } from "../../cli/errors.ts";
import { Output } from "../../cli/output.ts";

function capture(json: boolean) {
  const out = { stdout: "", stderr: "" };
  const io = {
    stdout: { write: (t: string) => (out.stdout += t) },
    stderr: { write: (t: string) => (out.stderr += t) },
    env: {},
  };
  return { output: new Output(io, { json, verbose: false }), out };
}

describe("how armor reports failures", () => {
  it("prints a user's mistake as one line and a hint, exit 1", ({ expect }) => {
    const { output, out } = capture(false);
    expect(output.error(new UserError("cannot read x.deb", { hint: "check the path" }), { bug: EXIT.bug })).toBe(1);
    expect(out.stderr).toBe("error: cannot read x.deb\nhint: check the path\n");
  });

  it("prints a server refusal with its code and status, and 5xx as unavailable (exit 3)", ({ expect }) => {
    const { output, out } = capture(false);
    expect(
      output.error(new ServerError(409, "version_exists", "hello 1.0 (amd64) already exists"), { bug: EXIT.bug }),
    ).toBe(1);
    expect(out.stderr).toContain(
      "error: hello 1.0 (amd64) already exists (version_exists, HTTP 409)\nhint: bump the package version",
    );
    expect(output.error(new ServerError(503, "unavailable", "try again"), { bug: EXIT.bug })).toBe(3);
  });

  it("prints a bug's stack and exits 70, in both modes", ({ expect }) => {
    const human = capture(false);
    const bug = new TypeError("cannot read properties of undefined");
    expect(human.output.error(bug, { bug: EXIT.bug })).toBe(70);
    expect(human.out.stderr).toContain(
      "armor hit a bug; please report it with this output:\nTypeError: cannot read properties of undefined\n    at ",
    );
    const json = capture(true);
    expect(json.output.error(bug, { bug: EXIT.bug })).toBe(70);
    const printed = JSON.parse(json.out.stdout) as { error: { code: string; details: { stack: string } } };
    expect(printed.error.code).toBe("bug");
    expect(printed.error.details.stack).toContain("TypeError: cannot read properties of undefined");
  });
});
