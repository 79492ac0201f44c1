/**
 * The CI action (action.yml) runs scripts/ci-action.sh with its inputs as environment variables:
 * run here as a runner would, against the local stack, with the real CLI.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, inject, it } from "vitest";
import { type LocalStack, startLocalStack } from "../helpers/local-stack.ts";
import { finished } from "../helpers/processes.ts";
import { armor, writeDeb } from "./armor.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
let stack: LocalStack;
let work: string;

beforeAll(async () => {
  stack = await startLocalStack();
  work = mkdtempSync(join(tmpdir(), "armor-action-"));
}, 120_000);

afterAll(async () => {
  await stack?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** The action's step, with `inputs` as action.yml passes them and the CLI run from this checkout. */
async function runAction(env: Record<string, string>) {
  const child = spawn("bash", [join(ROOT, "scripts/ci-action.sh")], {
    cwd: work,
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: work,
      XDG_CONFIG_HOME: join(work, "config"),
      ARMOR_CLI: `${process.execPath} ${join(ROOT, "cli/main.ts")}`,
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  return finished(child);
}

describe("the CI action", () => {
  it("maps every input of action.yml to the script's environment", ({ expect }) => {
    const yml = readFileSync(join(ROOT, "action.yml"), "utf8");
    const block = yml.slice(yml.indexOf("\ninputs:"), yml.indexOf("\noutputs:"));
    const inputs = [...block.matchAll(/^ {2}([a-z-]+):\n {4}description:/gm)].map((m) => m[1]);
    expect(inputs).toEqual([
      "endpoint",
      "token",
      "repository",
      "dists",
      "component",
      "files",
      "signing-key",
      "signing-passphrase",
      "cli-url",
    ]);
    for (const input of inputs) expect(yml).toContain(`\${{ inputs.${input} }}`);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a GitHub Actions expression, not a template
    expect(yml).toContain('run: bash "${{ github.action_path }}/scripts/ci-action.sh"');
  });

  it("adds the files to each dist and publishes them, writing the result as an output", async ({ expect }) => {
    const env = { ARMOR_ENDPOINT: stack.endpoint, ARMOR_TOKEN: stack.token };
    expect((await armor(["repo", "create", "ci/action"], env)).code).toBe(0);
    const pub = join(work, "key.asc");
    writeFileSync(pub, inject("keys").trusted.public);
    expect((await armor(["key", "add", "--repository", "ci/action", pub], env)).code).toBe(0);
    const out = mkdtempSync(join(work, "debs-"));
    writeDeb(out, "action-tool", "1.0");
    writeDeb(out, "action-doc", "1.0", "all");
    const output = join(work, "github-output");
    writeFileSync(output, "");

    const ran = await runAction({
      ...env,
      ARMOR_REPOSITORY: "ci/action",
      ARMOR_SIGNING_KEY: inject("keys").trusted.secret,
      INPUT_DISTS: "stable testing",
      INPUT_COMPONENT: "main",
      INPUT_FILES: `${out}/*.deb\n`,
      GITHUB_OUTPUT: output,
    });
    expect(ran.code, ran.stderr).toBe(0);
    const result = JSON.parse(ran.stdout) as { published: boolean };
    expect(result.published).toBe(true);
    const written = readFileSync(output, "utf8");
    expect(written.startsWith("result<<ARMOR_RESULT_EOF\n")).toBe(true);
    expect(JSON.parse(written.split("\n").slice(1, -2).join("\n"))).toEqual(result);
    for (const dist of ["stable", "testing"]) {
      const packages = await (
        await fetch(`${stack.endpoint}/ci/action/dists/${dist}/main/binary-amd64/Packages`)
      ).text();
      expect(packages).toMatch(/^Package: action-tool$/m);
      expect(packages).toMatch(/^Package: action-doc$/m);
    }
  });

  it("names the missing input, and a pattern that matches nothing", async ({ expect }) => {
    const missing = await runAction({ ARMOR_ENDPOINT: stack.endpoint, ARMOR_TOKEN: stack.token });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("the input behind ARMOR_REPOSITORY is empty");
    const nothing = await runAction({
      ARMOR_ENDPOINT: stack.endpoint,
      ARMOR_TOKEN: stack.token,
      ARMOR_REPOSITORY: "ci/action",
      ARMOR_SIGNING_KEY: "x",
      INPUT_FILES: `${work}/nowhere/*.deb`,
    });
    expect(nothing.code).toBe(1);
    expect(nothing.stderr).toContain(`no file matches ${work}/nowhere/*.deb`);
  });
});
