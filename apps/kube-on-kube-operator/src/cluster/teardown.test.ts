import type { KubernetesObject } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { controlPlaneComponents, nodeTierComponents } from '../components/bring-up-order.ts';
import type { ControlPlaneComponent } from '../components/component.ts';
import { renderContext } from '../components/render-fixtures.ts';
import { isDeletionProtected, TEARDOWN_TIERS, teardownStep, teardownTiers } from './teardown.ts';

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
  obj('Deployment', 'prod-node-operator', 'node-operator'),
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
      [
        'Deployment prod-kube-scheduler',
        'Deployment prod-kube-controller-manager',
        'Deployment prod-node-operator',
      ],
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

describe('teardownTiers', () => {
  it('walks the bring-up list backwards, components side by side in one tier', () => {
    expect(TEARDOWN_TIERS).toEqual([
      ['kube-controller-manager', 'kube-scheduler', 'node-operator'],
      ['kube-apiserver'],
      ['etcd'],
      ['pki'],
    ]);
  });

  it('follows the dependencies, not the position in the list', () => {
    const component = (name: string, dependsOn: string[], label?: string) =>
      ({ name, dependsOn, ...(label ? { label } : {}) }) as unknown as ControlPlaneComponent;
    expect(
      teardownTiers([
        component('scheduler', ['apiServer'], 'kube-scheduler'),
        component('services', []),
        component('apiServer', ['services'], 'kube-apiserver'),
        component('nodeOperator', ['scheduler'], 'node-operator'),
      ]),
    ).toEqual([['node-operator'], ['kube-scheduler'], ['kube-apiserver']]);
  });

  it('knows the label of every object the components render', async () => {
    const ctx = await renderContext();
    const known = new Set<string>(TEARDOWN_TIERS.flat());
    for (const component of [...controlPlaneComponents, ...nodeTierComponents])
      for (const rendered of component.render(ctx) ?? []) {
        const label = rendered.metadata?.labels?.['clusters.kok.dev/component'] ?? '';
        expect(known.has(label), `${rendered.kind} ${rendered.metadata?.name}: ${label}`).toBe(true);
        if (component.label) expect(label).toBe(component.label);
      }
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
