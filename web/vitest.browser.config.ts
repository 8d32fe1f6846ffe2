// The real-browser suite (`npm run test:browser`): Debian's Chromium through playwright-core,
// the built widget on a host page, a real `sealdesk serve`, and a Node agent. Slow: files
// run one after another with long timeouts.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["browser/**/*.test.ts"],
    fileParallelism: false,
    testTimeout: 180_000,
    hookTimeout: 300_000,
    // expect.poll waits for the page (default 1 s): generous for a loaded CI machine.
    expect: { poll: { timeout: 20_000, interval: 50 } },
  },
});
