import type { V1DaemonSet, V1Deployment } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { resolveCluster } from '../cluster-spec.ts';
import { addonBundle } from './addon-bundle.ts';
import { addonReadiness } from './addon-readiness.ts';

const both = addonBundle(
  resolveCluster({
    metadata: { namespace: 'fleet', name: 'east' },
    spec: { version: 'v1.36.3', controlPlane: { apiServer: { advertiseAddress: '10.0.0.7' } } },
  }),
);
const noAddress = addonBundle(
  resolveCluster({ metadata: { namespace: 'fleet', name: 'east' }, spec: { version: 'v1.36.3' } }),
);

const deployment = (generation: number, status: V1Deployment['status']): V1Deployment => ({
  metadata: { generation },
  spec: { replicas: 2, selector: {}, template: {} },
  status,
});
const daemonSet = (generation: number, status: V1DaemonSet['status']): V1DaemonSet => ({
  metadata: { generation },
  status: status ?? {
    currentNumberScheduled: 0,
    desiredNumberScheduled: 0,
    numberMisscheduled: 0,
    numberReady: 0,
  },
});
const rolledOutDns = deployment(2, {
  observedGeneration: 2,
  replicas: 2,
  updatedReplicas: 2,
  availableReplicas: 2,
});
const ds = (observedGeneration: number, desired: number, updated: number, available: number) =>
  daemonSet(3, {
    observedGeneration,
    desiredNumberScheduled: desired,
    updatedNumberScheduled: updated,
    numberAvailable: available,
    currentNumberScheduled: desired,
    numberMisscheduled: 0,
    numberReady: available,
  });

describe('addonReadiness', () => {
  it('is ready once both workloads run the new template everywhere', () => {
    const readiness = addonReadiness(both, { coreDNS: rolledOutDns, kubeProxy: ds(3, 3, 3, 3) });
    expect(readiness).toMatchObject({ ready: true, reason: 'RolledOut' });
    expect(readiness.message).toBe('rolled out: coreDNS v1.13.1, kubeProxy v1.36.3');
    expect(readiness.status).toEqual({
      coreDNS: { replicas: 2, ready: 2, version: 'v1.13.1' },
      kubeProxy: { replicas: 3, ready: 3, version: 'v1.36.3' },
    });
  });

  it.each([
    [
      'a DaemonSet whose controller has not seen the change',
      ds(2, 3, 3, 3),
      /kube-proxy rolls out v1.36.3: 3\/3/,
    ],
    ['a node left on the old template', ds(3, 3, 2, 3), /kube-proxy rolls out/],
    ['a node not available', ds(3, 3, 3, 2), /2\/3 available/],
  ])('is rolling out with %s', (_, kubeProxy, message) => {
    const readiness = addonReadiness(both, { coreDNS: rolledOutDns, kubeProxy });
    expect(readiness).toMatchObject({ ready: false, reason: 'RollingOut' });
    expect(readiness.message).toMatch(message);
    expect(readiness.status.kubeProxy?.version).toBe('');
  });

  it('waits for CoreDNS pods, old ones included', () => {
    const surging = deployment(2, {
      observedGeneration: 2,
      replicas: 3,
      updatedReplicas: 2,
      availableReplicas: 2,
    });
    expect(addonReadiness(both, { coreDNS: surging, kubeProxy: ds(3, 1, 1, 1) }).ready).toBe(false);
    expect(addonReadiness(both, { coreDNS: undefined, kubeProxy: ds(3, 1, 1, 1) }).message).toBe(
      'Deployment kube-system/coredns is not there yet',
    );
  });

  it('is not ready while an enabled add-on cannot be deployed, and says why first', () => {
    const readiness = addonReadiness(noAddress, { coreDNS: rolledOutDns, kubeProxy: undefined });
    expect(readiness).toMatchObject({ ready: false, reason: 'NotDeployed' });
    expect(readiness.message).toMatch(/^kubeProxy not deployed: kube-proxy needs an address/);
    expect(readiness.status.coreDNS?.version).toBe('v1.13.1');
  });
});
