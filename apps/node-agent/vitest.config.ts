import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    // One real control plane (with kwok) shared by the integration tests.
    globalSetup: ['@kok/testing/global-setup'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
