import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    // The e2e starts its own control plane (its kwok Nodes are tainted), so no shared global setup.
    testTimeout: 240_000,
    hookTimeout: 240_000,
  },
});
