// The interop gate (`npm run test:interop`): ts-mls against the Rust openmls agent through a
// real `sealdesk serve`, plus the official MLS test vectors. Files run one after another: the
// machine has two cores and every scenario already runs a server and agent processes.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["interop/**/*.test.ts"],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 180_000,
  },
});
