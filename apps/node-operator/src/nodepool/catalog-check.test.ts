import type { Component, NodePoolTemplate } from '@kok/api';
import { planRollout } from '@kok/rollout';
import type { MachineState, RolloutSpec } from '@kok/rollout';
import { describe, expect, it } from 'vitest';
import { catalogHold, catalogHoldApplies, templateCatalogProblems } from './catalog-check.ts';

const SHA = 'b'.repeat(64);

function entry(
  name: string,
  versions: string[],
  install: Component['spec']['install'] = { method: 'Binary', path: `/usr/bin/${name}` },
): Component {
  return {
    apiVersion: 'nodes.kok.dev/v1alpha1',
    kind: 'Component',
    metadata: { name, generation: 1 },
    spec: {
      versions: versions.map((version) => ({
        version,
        artifact: { url: `https://a.example/${name}/${version}`, sha256: SHA },
      })),
      install,
    },
  } as Component;
}

const catalog = new Map<string, Component>([
  ['kubelet', entry('kubelet', ['v1.36.0', 'v1.36.1'])],
  ['containerd', entry('containerd', ['2.2.9'])],
  // An Image whose import is never given the tarball: not Accepted.
  ['pause', entry('pause', ['3.10.0'], { method: 'Image', importCommand: ['ctr', 'import'] })],
]);
const lookup = (name: string) => catalog.get(name);
const template = (...components: [string, string][]): NodePoolTemplate => ({
  components: components.map(([name, version]) => ({ name, version })),
});

describe('templateCatalogProblems', () => {
  it.each<
    [string, NodePoolTemplate, { reason: string; component: string; version: string; message: string }[]]
  >([
    ['every component listed and Accepted', template(['kubelet', 'v1.36.1'], ['containerd', '2.2.9']), []],
    ['no components at all', {}, []],
    [
      'a typo in a version',
      template(['kubelet', 'v1.36.9'], ['containerd', '2.2.9']),
      [
        {
          reason: 'VersionNotFound',
          component: 'kubelet',
          version: 'v1.36.9',
          message: 'kubelet v1.36.9: Component "kubelet" lists no version v1.36.9 (it has v1.36.0, v1.36.1)',
        },
      ],
    ],
    [
      'a component the catalog does not have',
      template(['kubelett', 'v1.36.1']),
      [
        {
          reason: 'ComponentNotFound',
          component: 'kubelett',
          version: 'v1.36.1',
          message: 'kubelett v1.36.1: there is no Component "kubelett"',
        },
      ],
    ],
    [
      'a listed version of a Component that is not Accepted',
      template(['pause', '3.10.0']),
      [
        {
          reason: 'ComponentNotAccepted',
          component: 'pause',
          version: '3.10.0',
          message: expect.stringMatching(
            /^pause 3\.10\.0: Component "pause" is not Accepted \(InvalidImportCommand: install\.importCommand never names/,
          ) as unknown as string,
        },
      ],
    ],
    [
      'several problems, in template order',
      template(['containerd', '2.2.8'], ['kubelet', 'v1.36.1'], ['runc', '1.3.0']),
      [
        expect.objectContaining({ reason: 'VersionNotFound', component: 'containerd' }),
        expect.objectContaining({ reason: 'ComponentNotFound', component: 'runc' }),
      ],
    ],
  ])('%s', (_, pool, expected) => {
    expect(templateCatalogProblems(pool, lookup)).toEqual(expected);
  });
});

describe('catalogHold', () => {
  it('is nothing without problems', () => {
    expect(catalogHold('workers', 'r2', [])).toBeUndefined();
  });

  it('takes the first reason and names pool, revision, every problem and the way out', () => {
    const problems = templateCatalogProblems(template(['kubelet', 'v1.36.9'], ['runc', '1.3.0']), lookup);
    expect(catalogHold('workers', 'r2', problems)).toEqual({
      reason: 'VersionNotFound',
      message:
        'NodePool "workers" holds revision r2, its template names what the Component catalog does not offer: ' +
        'kubelet v1.36.9: Component "kubelet" lists no version v1.36.9 (it has v1.36.0, v1.36.1); ' +
        'runc 1.3.0: there is no Component "runc"; ' +
        'no machine is told this revision until the catalog or the template is fixed',
    });
  });
});

describe('catalogHoldApplies', () => {
  const NOW = Date.parse('2026-01-01T00:00:00Z');
  const at = (
    name: string,
    current: string,
    desired = current,
    over: Partial<MachineState> = {},
  ): MachineState => ({
    name,
    labels: {},
    currentRevision: current,
    desiredRevision: desired,
    ready: true,
    cordoned: false,
    needsDisruption: false,
    ...over,
  });
  const plan = (machines: MachineState[], spec: RolloutSpec = {}, rolledBack = false) =>
    planRollout({
      pool: 'workers',
      spec: { maxUnavailable: 1, ...spec },
      targetRevision: 'r2',
      lastGoodRevision: 'r1',
      machines,
      now: NOW,
      rolledBack,
    });
  const failed = { failedRevision: 'r2', failureMessage: 'kubelet: exec check exited 1' };

  it.each([
    ['a rollout about to tell a machine the target', plan([at('m1', 'r1'), at('m2', 'r1')]), true],
    [
      'a rollout under way (one machine told, the other waiting for budget)',
      plan([at('m1', 'r1', 'r2'), at('m2', 'r1')]),
      true,
    ],
    ['a pool paused by spec.paused', plan([at('m1', 'r1')], { paused: true }), true],
    [
      'a rollout whose every machine runs the target: nothing is left to tell',
      plan([at('m1', 'r2'), at('m2', 'r2')]),
      false,
    ],
    [
      'a stop for failures, which tells no one the target',
      plan([at('m1', 'r1', 'r2', failed), at('m2', 'r1')], { maxFailed: 0 }),
      false,
    ],
    [
      'a rollback to the last good revision',
      plan([at('m1', 'r1', 'r2', failed), at('m2', 'r1')], { maxFailed: 0, autoRollback: true }),
      false,
    ],
    ['a pool that was rolled back', plan([at('m1', 'r1'), at('m2', 'r1')], {}, true), false],
  ])('%s: %s', (_, rolloutPlan, applies) => {
    expect(catalogHoldApplies(rolloutPlan)).toBe(applies);
  });

  it('the plan a hold leaves (spec.paused) tells no machine the target', () => {
    const machines = [
      at('m1', 'r1'),
      at('m2', 'r1'),
      at('m3', 'r1', 'r1', { cordoned: true, cordonedByRollout: true }),
    ];
    expect(plan(machines).assign.length).toBeGreaterThan(0);
    const held = plan(machines, { paused: true });
    expect(held.assign.filter((a) => a.revision === 'r2')).toEqual([]);
    expect(held.cordon).toEqual([]);
    expect(held.drain).toEqual([]);
  });
});
