import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

// deb/ and schema/ tests run in both projects: the same files prove the same code in workerd and in Node.
const everywhere = ["test/deb/**/*.test.ts", "test/schema/**/*.test.ts"];

/** The operator token the workers tests authenticate with (never a real secret). */
export const TEST_ADMIN_TOKEN = "test-operator-token";

export default defineConfig(async () => ({
  test: {
    projects: [
      {
        plugins: [
          cloudflareTest({
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              bindings: { TEST_MIGRATIONS: await readD1Migrations("schema/d1"), ARMOR_ADMIN_TOKEN: TEST_ADMIN_TOKEN },
            },
          }),
        ],
        test: {
          name: "workers",
          include: [...everywhere, "test/worker/**/*.test.ts", "test/objects/**/*.test.ts"],
          exclude: ["**/*.node.test.ts"],
          globalSetup: ["test/fixtures/global-setup.ts"],
          setupFiles: ["test/helpers/workers-setup.ts"],
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
}));
