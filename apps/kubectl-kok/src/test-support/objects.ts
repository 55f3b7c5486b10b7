/** Small builders of kok objects for the pure tests. */
import type { Condition, Machine, NodePool } from '@kok/api';

export function condition(
  type: string,
  status: Condition['status'],
  reason: string,
  message = '',
): Condition {
  return { type, status, reason, message, lastTransitionTime: '2026-01-01T00:00:00Z' };
}

export interface MachineOptions {
  labels?: Record<string, string>;
  pool?: string;
  desired?: string;
  current?: string;
  failed?: boolean;
}

/** A Machine told `desired` whose agent runs `current`; `failed` makes its kubelet report Failed. */
export function machine(name: string, options: MachineOptions = {}): Machine {
  return {
    apiVersion: 'nodes.kok.dev/v1alpha1',
    kind: 'Machine',
    metadata: { name, labels: options.labels ?? {} },
    spec: {
      ...(options.pool === undefined ? {} : { pool: options.pool }),
      ...(options.desired === undefined ? {} : { revision: options.desired }),
    },
    status: {
      ...(options.current === undefined
        ? {}
        : { revision: { current: options.current, desired: options.desired } }),
      ...(options.failed
        ? { components: [{ name: 'kubelet', state: 'Failed' as const, message: 'exec check exited 1' }] }
        : {}),
    },
  } as Machine;
}

export function pool(
  name: string,
  spec: Partial<NodePool['spec']> = {},
  status?: NodePool['status'],
): NodePool {
  return {
    apiVersion: 'nodes.kok.dev/v1alpha1',
    kind: 'NodePool',
    metadata: { name, generation: 1, resourceVersion: '42' },
    spec: { template: { components: [{ name: 'kubelet', version: 'v1.36.3' }] }, ...spec },
    ...(status ? { status } : {}),
  };
}
