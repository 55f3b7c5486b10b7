import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    // The property tests plan hundreds of simulated rollouts each; on a busy CI host that takes longer than 5 s.
    testTimeout: 60_000,
  },
});
