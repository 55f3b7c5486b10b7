import { describe, expect, it } from 'vitest';
import { withDefaults } from './defaults.ts';
import { RESOURCES } from './resources.ts';
import { example } from './testdata/examples.ts';

describe('withDefaults', () => {
  it('fills nested defaults under objects that default to {}', () => {
    const cluster = example('Cluster');
    cluster.spec = { version: 'v1.36.3' };
    const defaulted = withDefaults(RESOURCES.Cluster, cluster as never);
    expect(defaulted.spec).toEqual({
      version: 'v1.36.3',
      etcd: { replicas: 3, storage: { size: '8Gi' } },
      controlPlane: {
        apiServer: { replicas: 3, service: { type: 'ClusterIP', port: 6443 } },
        controllerManager: { replicas: 2 },
        scheduler: { replicas: 2 },
      },
      network: { serviceCIDR: '10.96.0.0/12', podCIDR: '10.244.0.0/16', dnsDomain: 'cluster.local' },
      addons: { coreDNS: { enabled: true }, kubeProxy: { enabled: true } },
      nodeOperator: { enabled: true },
      paused: false,
    });
  });

  it('keeps what is set, defaults list items and leaves the input alone', () => {
    const pool = example('NodePool');
    const before = structuredClone(pool);
    const defaulted = withDefaults(RESOURCES.NodePool, pool as never);
    expect(pool).toEqual(before);
    expect(defaulted.spec.rollout?.strategy?.rollingUpdate?.maxUnavailable).toBe('5%');
    expect(defaulted.spec.rollout?.waves?.[0]).toEqual({
      name: 'canary',
      count: 1,
      bakeSeconds: 600,
      pauseAfter: false,
    });
    // The agent picks a file's mode by its source (0600 for a Secret): no schema default may hide that it is unset.
    expect(defaulted.spec.template.files?.[0]?.mode).toBeUndefined();
  });
});
