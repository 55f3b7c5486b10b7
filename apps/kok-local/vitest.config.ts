import { defineConfig } from 'vitest/config';

// Pure tests only: the stack itself is proven end to end by e2e/src/local-stack.e2e.test.ts, which runs this app's bin.
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
  },
});
