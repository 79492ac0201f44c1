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
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: "node",
          environment: "node",
          include: [...everywhere, "test/cli/**/*.test.ts", "test/sidecar/**/*.test.ts", "test/e2e/**/*.test.ts"],
          globalSetup: ["test/fixtures/global-setup.ts"],
          testTimeout: 30_000,
          // Hooks start real processes (wrangler dev, the sidecar on PGlite): on a machine busy with
          // other work that took longer than vitest's 10 s default, and a failed beforeAll skips its
          // whole file. A hook that hangs still fails, only later.
          hookTimeout: 180_000,
          teardownTimeout: 60_000,
        },
      },
    ],
  },
}));
