import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['@kok/testing/global-setup'],
    testTimeout: 180_000,
    hookTimeout: 120_000,
  },
});
