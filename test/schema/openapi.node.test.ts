/** The OpenAPI document passes Redocly's linter (its recommended rules) with no errors. */
import { createConfig, lintFromString } from "@redocly/openapi-core";
import { describe, it } from "vitest";
import { openApiDocument } from "../../worker/openapi.ts";

describe("the OpenAPI document", () => {
  it("is accepted by Redocly's linter with its recommended rules, with no errors", async ({ expect }) => {
    const source = JSON.stringify(openApiDocument("https://armor.acme.dev"), null, 2);
    const problems = await lintFromString({
      source,
      absoluteRef: "openapi.json",
      config: await createConfig({ extends: ["recommended"] }),
    });
    const errors = problems.filter((p) => p.severity === "error");
    expect(errors.map((p) => `${p.ruleId}: ${p.message} at ${p.location[0]?.pointer ?? ""}`)).toEqual([]);
    // Warnings are reported, not failed: say them so they are seen.
    for (const p of problems.filter((x) => x.severity === "warn")) console.warn(`redocly ${p.ruleId}: ${p.message}`);
  });
});
