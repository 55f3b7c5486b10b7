import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // The pure parts of the conformance runner (npm run conformance) are tested with the suite.
    include: ['src/**/*.e2e.test.ts', 'src/conformance/*.test.ts'],
    // One real control plane (etcd, kube-apiserver, controller-manager, scheduler, kwok) for the run,
    // joinable: the node-agents ask for their own certificates with a bootstrap token.
    globalSetup: ['@kok/testing/global-setup-joinable'],
    // The scenarios of a file build on each other (one fleet of real agents), so they run in order.
    sequence: { concurrent: false },
    fileParallelism: false,
    // Generous: the hosts are real processes, and a shared 2-core machine can be slow to start them.
    testTimeout: 600_000,
    hookTimeout: 180_000,
  },
});
