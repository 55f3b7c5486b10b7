import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    // The apiserver test starts its own etcd + kube-apiserver.
    testTimeout: 60_000,
    hookTimeout: 180_000,
  },
});
