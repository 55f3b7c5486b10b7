import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    // The smoke test runs every benchmark, each starting its own control plane and processes,
    // so nothing else in this project runs beside it.
    fileParallelism: false,
    testTimeout: 600_000,
  },
});
