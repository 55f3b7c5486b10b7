import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    // One real control plane (controller-manager, scheduler, kwok) shared by the integration tests.
    globalSetup: ['@kok/testing/global-setup'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
