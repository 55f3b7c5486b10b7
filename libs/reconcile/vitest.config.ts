import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    // Integration tests talk to a real apiserver: give them room.
    testTimeout: 30_000,
    hookTimeout: 120_000,
  },
});
