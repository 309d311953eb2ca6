import { defineConfig } from "vitest/config";

// TypeGraphQL reads decorator metadata through reflect-metadata, which must load first.
export default defineConfig({
  test: { setupFiles: ["reflect-metadata"], testTimeout: 30_000, hookTimeout: 60_000 },
});
