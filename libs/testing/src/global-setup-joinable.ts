import type { TestProject } from 'vitest/node';
import { startSharedControlPlane } from './global-setup.ts';

/**
 * Vitest global setup: the shared control plane of global-setup.ts, joinable
 * besides (bootstrap-token authentication, the Node authorizer and a
 * controller-manager that signs CSRs), for suites whose processes get their
 * own identities the way hosts do.
 */
export default function setup(project: TestProject): Promise<() => Promise<void>> {
  return startSharedControlPlane(project, { joinable: { address: '127.0.0.1' } });
}
