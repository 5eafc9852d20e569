import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    // Probes the PostgreSQL server once: the suites that need it skip with a notice outside CI.
    globalSetup: ["test/support/postgres-setup.ts"],
  },
});
