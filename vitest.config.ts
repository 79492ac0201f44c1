import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

// deb/ and schema/ tests run in both projects: the same files prove the same code in workerd and in Node.
const everywhere = ["test/deb/**/*.test.ts", "test/schema/**/*.test.ts"];

export default defineConfig({
  test: {
    projects: [
      {
        plugins: [cloudflareTest({ wrangler: { configPath: "./wrangler.toml" } })],
        test: {
          name: "workers",
          include: [...everywhere, "test/worker/**/*.test.ts", "test/objects/**/*.test.ts"],
          exclude: ["**/*.node.test.ts"],
          globalSetup: ["test/fixtures/global-setup.ts"],
        },
      },
      {
        test: {
          name: "node",
          environment: "node",
          include: [...everywhere, "test/cli/**/*.test.ts", "test/sidecar/**/*.test.ts", "test/e2e/**/*.test.ts"],
          globalSetup: ["test/fixtures/global-setup.ts"],
          testTimeout: 30_000,
        },
      },
    ],
  },
});
