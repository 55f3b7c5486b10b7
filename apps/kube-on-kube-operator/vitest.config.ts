import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    // One real control plane (controller-manager, scheduler, kwok nodes) shared by the integration tests.
    globalSetup: ['@kok/testing/global-setup'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
  },
});
