import { join } from 'node:path';
import { RolloutAnnotations, templateRevision } from '@kok/api';
import type { Machine, NodePool, NodePoolTemplate } from '@kok/api';
import type { V1Node } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { planNodePool } from './nodepool-plan.ts';
import { poolFromFile, poolWithVersions } from './proposed-pool.ts';
import { renderNodePoolPlan } from './render/nodepool-plan.ts';
import { durationEstimate } from './upgrade-durations.ts';

const GOLDEN = join(import.meta.dirname, 'testdata', 'nodepool-plan');
const now = new Date('2026-03-01T12:00:00Z');

/** The local stack's (`npm run kok`) pool: stand-in hosts, a canary that waits for a person. */
const demoTemplate = (kubelet: string): NodePoolTemplate => ({
  components: [
    { name: 'kubelet', version: kubelet },
    { name: 'containerd', version: '1.7.21' },
  ],
});
const demoPool = (template = demoTemplate('v1.36.1')): NodePool => ({
  apiVersion: 'nodes.kok.dev/v1alpha1',
  kind: 'NodePool',
  metadata: { name: 'workers', generation: 1 },
  spec: {
    template,
    rollout: {
      strategy: { rollingUpdate: { maxUnavailable: 1 } },
      waves: [{ name: 'canary', count: 1, pauseAfter: true }],
    },
  },
  status: {
    currentRevision: templateRevision(template),
    updateRevision: templateRevision(template),
  },
});

const at = (seconds: number) => new Date(now.getTime() + seconds * 1000).toISOString().replace('.000Z', 'Z');
const healthy = (since: string) =>
  ['AgentReady', 'UpToDate', 'NodeHealthy'].map((type) => ({
    type,
    status: 'True' as const,
    reason: 'AsExpected',
    message: '',
    lastTransitionTime: since,
  }));

/**
 * A demo host running `template`; with `toldSecondsAgo` and `tookSeconds`, the rollout told it that revision
 * then and it was healthy that much later (one observed upgrade).
 */
function demoMachine(
  name: string,
  template: NodePoolTemplate,
  history?: { toldSecondsAgo: number; tookSeconds: number },
): Machine {
  const revision = templateRevision(template);
  const since = history ? at(-history.toldSecondsAgo + history.tookSeconds) : at(-3600);
  return {
    apiVersion: 'nodes.kok.dev/v1alpha1',
    kind: 'Machine',
    metadata: {
      name,
      labels: {},
      ...(history
        ? {
            annotations: {
              [RolloutAnnotations.revisionAssigned]: `${revision}/${at(-history.toldSecondsAgo)}`,
            },
          }
        : {}),
    },
    spec: { pool: 'workers', revision, ...template },
    status: {
      revision: { current: revision, desired: revision },
      components: (template.components ?? []).map((c) => ({ ...c, state: 'Running' as const })),
      conditions: healthy(since),
    },
  } as Machine;
}

function readyNodes(names: readonly string[]): Map<string, V1Node> {
  return new Map(
    names.map((name) => [
      name,
      {
        metadata: { name, labels: { 'kubernetes.io/hostname': name } },
        status: { conditions: [{ type: 'Ready', status: 'True' }] },
      },
    ]),
  );
}

const names = ['worker-0', 'worker-1', 'worker-2'];

describe('nodepool plan of the demo pool (golden)', () => {
  it('--set kubelet=v1.36.2 on a freshly installed pool: the canary, then the stop for a person', async () => {
    const live = demoPool();
    const view = planNodePool({
      live,
      proposed: poolWithVersions(live, ['kubelet=v1.36.2']),
      machines: names.map((name) => demoMachine(name, live.spec.template)),
      nodes: readyNodes(names),
      now,
    });
    expect(view.outcome).toBe('Stopped');
    expect(view.stoppedBy?.reason).toBe('AwaitingResume');
    await expect(renderNodePoolPlan(view)).toMatchFileSnapshot(join(GOLDEN, 'demo-set-kubelet.txt'));
    await expect(JSON.stringify(view, null, 2) + '\n').toMatchFileSnapshot(
      join(GOLDEN, 'demo-set-kubelet.json'),
    );
  });

  it('-f with no pause and a baked canary, on a pool with upgrade history: the whole rollout and its ETA', async () => {
    const live = demoPool();
    const file = stringify({
      apiVersion: 'nodes.kok.dev/v1alpha1',
      kind: 'NodePool',
      metadata: { name: 'workers' },
      spec: {
        template: demoTemplate('v1.36.2'),
        rollout: {
          strategy: { rollingUpdate: { maxUnavailable: 1 } },
          waves: [{ name: 'canary', count: 1, bakeSeconds: 300 }],
        },
        disruptionPolicy: { components: [{ name: 'kubelet', action: 'Restart' }] },
      },
    });
    const machines = [
      demoMachine('worker-0', live.spec.template, { toldSecondsAgo: 7200, tookSeconds: 80 }),
      demoMachine('worker-1', live.spec.template, { toldSecondsAgo: 7000, tookSeconds: 95 }),
      demoMachine('worker-2', live.spec.template, { toldSecondsAgo: 6800, tookSeconds: 130 }),
    ];
    const view = planNodePool({
      live,
      proposed: poolFromFile(live, file, 'new-pool.yaml'),
      machines,
      nodes: readyNodes(names),
      now,
    });
    expect(view.outcome).toBe('Complete');
    // Three machines one at a time at the median of 95 s, plus the canary's bake.
    expect(view.estimate.seconds).toBe(3 * 95 + 300);
    expect(view.changing.map((machine) => [machine.machine, machine.action, machine.drain])).toEqual([
      ['worker-0', 'Restart', false],
      ['worker-1', 'Restart', false],
      ['worker-2', 'Restart', false],
    ]);
    await expect(renderNodePoolPlan(view)).toMatchFileSnapshot(join(GOLDEN, 'demo-file-history.txt'));
  });

  it('says there is nothing to do for the live template', () => {
    const live = demoPool();
    const view = planNodePool({
      live,
      proposed: poolWithVersions(live, ['kubelet=v1.36.1']),
      machines: names.map((name) => demoMachine(name, live.spec.template)),
      nodes: readyNodes(names),
      now,
    });
    expect(view.changing).toEqual([]);
    expect(view.outcome).toBe('Complete');
    expect(renderNodePoolPlan(view)).toContain('Nothing to do: every machine runs this revision.');
  });
});

describe('the proposed pool', () => {
  const live = demoPool();
  it.each([
    [
      () => poolWithVersions(live, ['etcd=3.6.0']),
      'has no component "etcd" in its template (it has: kubelet, containerd)',
    ],
    [() => poolWithVersions(live, ['kubelet']), '--set kubelet: write component=version'],
    [
      () => poolFromFile(live, 'kind: NodePool\nmetadata: {name: other}\n', 'f.yaml'),
      'f.yaml holds NodePool "other", not "workers"',
    ],
    [() => poolFromFile(live, 'kind: Machine\n', 'f.yaml'), 'f.yaml must hold one NodePool (found 0)'],
    [
      () =>
        poolFromFile(
          live,
          stringify({
            kind: 'NodePool',
            spec: { ...live.spec, rollout: { waves: [{ name: 'x', count: 1, percent: 5 }] } },
          }),
          'f.yaml',
        ),
      'NodePool "workers" is invalid',
    ],
  ])('refuses what the apiserver or the pool would not take (%#)', (propose, message) => {
    expect(propose).toThrow(message);
  });

  it('has the revision the node-operator computes from the stored (defaulted) template', () => {
    const proposed = poolWithVersions(live, ['kubelet=v1.36.2']);
    expect(templateRevision(proposed.spec.template)).toBe(templateRevision(demoTemplate('v1.36.2')));
  });
});

describe('the duration model', () => {
  const template = demoTemplate('v1.36.1');
  it.each([
    {
      tooks: [],
      upgrade: 60,
      basis: 'no history: assumed 60s per machine from being told the revision to healthy',
    },
    {
      tooks: [40],
      upgrade: 40,
      basis: 'median of 1 observed upgrade (40s from being told a revision to healthy)',
    },
    {
      tooks: [30, 50, 400, 70],
      upgrade: 60,
      basis: 'median of 4 observed upgrades (60s from being told a revision to healthy)',
    },
  ])('$basis', ({ tooks, upgrade, basis }) => {
    const machines = [
      ...tooks.map((took, index) =>
        demoMachine(`m${index}`, template, { toldSecondsAgo: 1000 + index, tookSeconds: took }),
      ),
      demoMachine('never-told', template),
    ];
    const estimate = durationEstimate(machines);
    expect(estimate.upgradeSeconds).toBe(upgrade);
    expect(estimate.basis).toBe(`${basis}; drains assumed instant (none under way to time)`);
  });

  it('times a drain under way from the cordon to the machine being told', () => {
    const machine = demoMachine('m0', template, { toldSecondsAgo: 100, tookSeconds: 200 });
    machine.metadata = {
      ...machine.metadata,
      annotations: {
        ...machine.metadata?.annotations,
        [RolloutAnnotations.cordonedByRollout]: templateRevision(template),
        [RolloutAnnotations.drainStartedAt]: at(-145),
      },
    };
    expect(durationEstimate([machine])).toMatchObject({ drainSeconds: 45, observedDrains: 1 });
  });
});
