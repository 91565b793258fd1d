import { defaultServerConditions } from "vite";
import { defineConfig } from "vitest/config";

// Tests import each workspace package from its TypeScript source ("ironclaw-source" export condition),
// so a test never runs against a stale build.
const conditions = ["ironclaw-source", ...defaultServerConditions];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    include: ["packages/*/test/**/*.test.ts", "test/**/*.test.ts"],
    environment: "node",
    testTimeout: 30_000,
    globalSetup: ["test/support/global-setup.ts"],
  },
});
