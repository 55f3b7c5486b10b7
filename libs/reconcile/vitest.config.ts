import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    // One real control plane (with kube-controller-manager) shared by the integration tests.
    globalSetup: ['@kok/testing/global-setup'],
    // Integration tests talk to a real apiserver: give them room.
    testTimeout: 30_000,
    hookTimeout: 120_000,
  },
});
