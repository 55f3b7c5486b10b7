import type { V1DaemonSet, V1Deployment } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { resolveCluster } from '../cluster-spec.ts';
import { addonBundle } from './addon-bundle.ts';
import type { AddonPassOutcome } from './addon-readiness.ts';
import { addonReadiness } from './addon-readiness.ts';

const bundleOf = (spec: Record<string, unknown>) =>
  addonBundle(
    resolveCluster({ metadata: { namespace: 'fleet', name: 'east' }, spec: { version: 'v1.36.3', ...spec } }),
  );
const both = bundleOf({ controlPlane: { apiServer: { advertiseAddress: '10.0.0.7' } } });
const noAddress = bundleOf({});

const deployment = (
  status: V1Deployment['status'],
  image = 'registry.k8s.io/coredns/coredns:v1.13.1',
): V1Deployment => ({
  metadata: { generation: 2 },
  spec: { replicas: 2, selector: {}, template: { spec: { containers: [{ name: 'coredns', image }] } } },
  status,
});
const ds = (
  observedGeneration: number,
  desired: number,
  updated: number,
  available: number,
  image = 'registry.k8s.io/kube-proxy:v1.36.3',
): V1DaemonSet => ({
  metadata: { generation: 3 },
  spec: { selector: {}, template: { spec: { containers: [{ name: 'kube-proxy', image }] } } },
  status: {
    observedGeneration,
    desiredNumberScheduled: desired,
    updatedNumberScheduled: updated,
    numberAvailable: available,
    currentNumberScheduled: desired,
    numberMisscheduled: 0,
    numberReady: available,
  },
});
const dns = deployment({ observedGeneration: 2, replicas: 2, updatedReplicas: 2, availableReplicas: 2 });
const outcome = (
  workloads: AddonPassOutcome['workloads'],
  extra: Partial<AddonPassOutcome> = {},
): AddonPassOutcome => ({
  workloads,
  failed: {},
  foreign: [],
  ...extra,
});

describe('addonReadiness', () => {
  it('is ready once both workloads run the rendered template everywhere', () => {
    const readiness = addonReadiness(both, outcome({ coreDNS: dns, kubeProxy: ds(3, 3, 3, 3) }));
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
    [
      'an image someone else set',
      ds(3, 3, 3, 3, 'example.com/kube-proxy:patched'),
      /runs example.com\/kube-proxy:patched, not registry.k8s.io\/kube-proxy:v1.36.3/,
    ],
  ])('is rolling out with %s', (_, kubeProxy, message) => {
    const readiness = addonReadiness(both, outcome({ coreDNS: dns, kubeProxy }));
    expect(readiness).toMatchObject({ ready: false, reason: 'RollingOut' });
    expect(readiness.message).toMatch(message);
    expect(readiness.status.kubeProxy.version).toBe('');
  });

  it('waits for CoreDNS pods, old ones included, and for a Deployment that is gone', () => {
    const surging = deployment({
      observedGeneration: 2,
      replicas: 3,
      updatedReplicas: 2,
      availableReplicas: 2,
    });
    expect(addonReadiness(both, outcome({ coreDNS: surging, kubeProxy: ds(3, 1, 1, 1) })).ready).toBe(false);
    expect(addonReadiness(both, outcome({ coreDNS: undefined, kubeProxy: ds(3, 1, 1, 1) })).message).toBe(
      'Deployment kube-system/coredns is not there yet',
    );
  });

  it('is not ready while an enabled add-on cannot be deployed, says why, and reports what still runs', () => {
    const readiness = addonReadiness(noAddress, outcome({ coreDNS: dns, kubeProxy: ds(3, 3, 3, 3) }));
    expect(readiness).toMatchObject({ ready: false, reason: 'NotDeployed' });
    expect(readiness.message).toMatch(/^kubeProxy not deployed: kube-proxy needs an address/);
    expect(readiness.status).toEqual({
      coreDNS: { replicas: 2, ready: 2, version: 'v1.13.1' },
      kubeProxy: { replicas: 3, ready: 3, version: '' },
    });
  });

  it('names a failed add-on first, the other going on', () => {
    const readiness = addonReadiness(
      both,
      outcome(
        { coreDNS: undefined, kubeProxy: ds(3, 3, 3, 3) },
        { failed: { coreDNS: 'Service "kube-dns" is invalid' } },
      ),
    );
    expect(readiness).toMatchObject({ ready: false, reason: 'ApplyFailed' });
    expect(readiness.message).toBe('coreDNS: Service "kube-dns" is invalid');
    expect(readiness.status.kubeProxy.version).toBe('v1.36.3');
  });

  it('is ready with everything off, naming what it left alone', () => {
    const off = bundleOf({ addons: { coreDNS: { enabled: false }, kubeProxy: { enabled: false } } });
    const readiness = addonReadiness(
      off,
      outcome({ coreDNS: undefined, kubeProxy: undefined }, { foreign: ['Deployment kube-system/coredns'] }),
    );
    expect(readiness).toMatchObject({ ready: true, reason: 'NoneEnabled' });
    expect(readiness.message).toBe(
      'every add-on is disabled (spec.addons); left alone, not made by this operator: Deployment kube-system/coredns',
    );
  });
});
