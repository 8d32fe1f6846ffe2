// Unit tests: no server, no Rust binaries (`npm test`).
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["shared/**/*.test.ts", "widget/**/*.test.ts", "console/**/*.test.ts", "scripts/**/*.test.ts"],
    testTimeout: 30_000,
  },
});
