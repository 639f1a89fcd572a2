import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const src = (p: string) => fileURLToPath(new URL(p, import.meta.url));

// Tests import packages by their public names; these aliases point them at the
// TypeScript sources so a test run never depends on a stale dist/.
const alias = {
  // Before "@cutover/outbox", which would otherwise also match its subpath.
  "@cutover/outbox/internal": src("./packages/outbox/src/internal.ts"),
  "@cutover/outbox": src("./packages/outbox/src/index.ts"),
  "@cutover/compat-lint": src("./packages/compat-lint/src/index.ts"),
  "@cutover/worker": src("./apps/worker/src/index.ts"),
};

export default defineConfig({
  resolve: { alias },
  test: {
    projects: [
      {
        resolve: { alias },
        test: {
          name: "unit",
          include: ["packages/*/test/**/*.test.ts", "apps/*/test/**/*.test.ts", "test/**/*.test.ts"],
          exclude: ["**/node_modules/**", "test/chaos/**"],
          globalSetup: ["test/harness/global-setup.ts"],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          pool: "forks",
        },
      },
      {
        resolve: { alias },
        test: {
          name: "chaos",
          include: ["test/chaos/**/*.test.ts"],
          testTimeout: 900_000,
          hookTimeout: 300_000,
          pool: "forks",
          fileParallelism: false,
        },
      },
    ],
  },
});
