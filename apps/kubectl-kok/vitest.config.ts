import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    // One real control plane shared by the end-to-end tests, which run the plugin as a child process.
    globalSetup: ['@kok/testing/global-setup'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
