import type { V1Deployment, V1StatefulSet } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { withTemplateHash } from './template-hash.ts';
import { deploymentStatus, imageTag, quorum, requiredReady, statefulSetStatus } from './workload-status.ts';

const desiredDeployment = withTemplateHash<V1Deployment>({ metadata: { name: 'prod-kube-apiserver' } }, 'h2');

function deployment(o: {
  hash?: string;
  image?: string;
  generation?: number;
  observed?: number;
  replicas?: number;
  updated?: number;
  total?: number;
  available?: number;
}): V1Deployment {
  const replicas = o.replicas ?? 3;
  return withTemplateHash(
    {
      metadata: { name: 'prod-kube-apiserver', generation: o.generation ?? 2 },
      spec: {
        replicas,
        selector: {},
        template: {
          spec: { containers: [{ name: 'x', image: o.image ?? 'registry.k8s.io/kube-apiserver:v1.36.4' }] },
        },
      },
      status: {
        observedGeneration: o.observed ?? 2,
        updatedReplicas: o.updated ?? replicas,
        replicas: o.total ?? replicas,
        availableReplicas: o.available ?? replicas,
      },
    },
    o.hash ?? 'h2',
  );
}

describe('deploymentStatus', () => {
  it.each<[string, Parameters<typeof deployment>[0] | undefined, boolean, boolean, string]>([
    ['missing', undefined, false, false, 'Missing'],
    ['all updated and ready', {}, true, true, 'Available'],
    ['one of three down is still available', { available: 2 }, true, true, 'Available'],
    ['two of three down', { available: 1 }, false, false, 'NotEnoughReady'],
    ['written from older inputs', { hash: 'h1' }, true, false, 'Updating'],
    ['generation not observed yet', { observed: 1 }, true, false, 'Updating'],
    ['old pods still running', { updated: 2, total: 4 }, true, false, 'RollingOut'],
    [
      'template at another version',
      { image: 'registry.k8s.io/kube-apiserver:v1.36.3' },
      true,
      false,
      'RollingOut',
    ],
    ['a single replica must be ready', { replicas: 1, available: 0 }, false, false, 'NotEnoughReady'],
  ])('%s', (_, observed, available, atDesired, reason) => {
    const status = deploymentStatus(observed && deployment(observed), desiredDeployment, 'v1.36.4');
    expect([status.available, status.availableAtDesired, status.reason]).toEqual([
      available,
      atDesired,
      reason,
    ]);
  });

  it('reports the version only once every replica runs it', () => {
    expect(deploymentStatus(deployment({}), desiredDeployment, 'v1.36.4').version).toBe('v1.36.4');
    expect(deploymentStatus(deployment({ updated: 1, total: 4 }), desiredDeployment, 'v1.36.4').version).toBe(
      '',
    );
  });
});

const desiredEtcd = withTemplateHash<V1StatefulSet>({ metadata: { name: 'prod-etcd' } }, 'e1');

function etcd(o: {
  replicas?: number;
  ready?: number;
  updated?: number;
  current?: string;
  update?: string;
  image?: string;
}): V1StatefulSet {
  const replicas = o.replicas ?? 3;
  return withTemplateHash(
    {
      metadata: { name: 'prod-etcd', generation: 1 },
      spec: {
        replicas,
        selector: {},
        serviceName: 'prod-etcd',
        template: {
          spec: { containers: [{ name: 'etcd', image: o.image ?? 'registry.k8s.io/etcd:3.6.16-0' }] },
        },
      },
      status: {
        observedGeneration: 1,
        replicas,
        readyReplicas: o.ready ?? replicas,
        updatedReplicas: o.updated ?? replicas,
        currentRevision: o.current ?? 'r1',
        updateRevision: o.update ?? 'r1',
      },
    },
    'e1',
  );
}

describe('statefulSetStatus (etcd)', () => {
  it.each<[string, Parameters<typeof etcd>[0], boolean, boolean]>([
    ['all members ready', {}, true, true],
    ['quorum of three is two', { ready: 2 }, true, true],
    ['one of three is no quorum', { ready: 1 }, false, false],
    ['quorum of five is three', { replicas: 5, ready: 3 }, true, true],
    ['rolling: revisions differ', { current: 'r1', update: 'r2', updated: 1 }, true, false],
    ['another etcd version', { image: 'registry.k8s.io/etcd:3.6.15-0' }, true, false],
  ])('%s', (_, o, available, atDesired) => {
    const status = statefulSetStatus(etcd(o), desiredEtcd, '3.6.16');
    expect([status.available, status.availableAtDesired]).toEqual([available, atDesired]);
  });
});

describe('helpers', () => {
  it.each([
    [1, 1],
    [3, 2],
    [5, 3],
    [7, 4],
  ])('quorum(%i) = %i', (n, q) => expect(quorum(n)).toBe(q));
  it.each([
    [1, 1],
    [2, 1],
    [3, 2],
  ])('requiredReady(%i) = %i', (n, r) => expect(requiredReady(n)).toBe(r));
  it.each([
    ['registry.k8s.io/kube-apiserver:v1.36.3', 'v1.36.3'],
    ['localhost:5000/etcd:3.6.16-0', '3.6.16-0'],
    ['localhost:5000/etcd', undefined],
    ['etcd:3.6.16@sha256:abc', '3.6.16'],
  ])('imageTag(%s)', (image, tag) => expect(imageTag(image)).toBe(tag));
});
