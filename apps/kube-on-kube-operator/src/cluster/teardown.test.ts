import type { KubernetesObject } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { isDeletionProtected, teardownStep } from './teardown.ts';

const obj = (kind: string, name: string, component: string, deleting = false): KubernetesObject => ({
  kind,
  metadata: {
    name,
    labels: { 'clusters.kok.dev/component': component },
    ...(deleting ? { deletionTimestamp: new Date() } : {}),
  },
});

const everything = [
  obj('Secret', 'prod-ca', 'pki'),
  obj('Service', 'prod-etcd', 'etcd'),
  obj('StatefulSet', 'prod-etcd', 'etcd'),
  obj('Service', 'prod-apiserver', 'kube-apiserver'),
  obj('Deployment', 'prod-kube-apiserver', 'kube-apiserver'),
  obj('Deployment', 'prod-kube-scheduler', 'kube-scheduler'),
  obj('Deployment', 'prod-kube-controller-manager', 'kube-controller-manager'),
];
const names = (objs: KubernetesObject[]) => objs.map((o) => `${o.kind} ${o.metadata?.name}`);

describe('teardownStep', () => {
  it('goes in reverse bring-up order, one tier at a time', () => {
    let left = everything;
    const steps: string[][] = [];
    for (;;) {
      const step = teardownStep(left);
      if (step.done) break;
      steps.push(names(step.delete));
      left = left.filter((o) => !step.delete.includes(o));
    }
    expect(steps).toEqual([
      ['Deployment prod-kube-scheduler', 'Deployment prod-kube-controller-manager'],
      ['Service prod-apiserver', 'Deployment prod-kube-apiserver'],
      ['Service prod-etcd', 'StatefulSet prod-etcd'],
      ['Secret prod-ca'],
    ]);
  });

  it('waits for objects already going before touching the next tier', () => {
    const step = teardownStep([
      obj('Deployment', 'prod-kube-apiserver', 'kube-apiserver', true),
      obj('StatefulSet', 'prod-etcd', 'etcd'),
    ]);
    expect(step).toEqual({ delete: [], remaining: 1, done: false });
  });

  it('is done when nothing is left', () => {
    expect(teardownStep([])).toEqual({ delete: [], remaining: 0, done: true });
  });
});

describe('isDeletionProtected', () => {
  it.each([
    [undefined, false],
    [{}, false],
    [{ 'clusters.kok.dev/deletion-protection': 'true' }, true],
    [{ 'clusters.kok.dev/deletion-protection': 'false' }, false],
    [{ 'clusters.kok.dev/deletion-protection': '' }, false],
  ])('%j: %s', (annotations, expected) => {
    expect(isDeletionProtected(annotations)).toBe(expected);
  });
});
