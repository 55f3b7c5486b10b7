import { ROLLOUT_RECORD_ANNOTATION, recordValue } from '@kok/api';
import type { ClusterRolloutSpec, ClusterRolloutView, ObservedCluster } from '@kok/api';
import { describe, expect, it } from 'vitest';
import type { ClusterRolloutPlanInput } from './clusterrollout-plan.ts';
import { clusterRolloutPlanView, selectorText } from './clusterrollout-plan.ts';
import { renderClusterRolloutPlan } from './render/clusterrollout-plan.ts';

const NOW = Date.parse('2026-03-01T12:00:00Z');
const UID = 'uid-to-v1-36-4';

interface ClusterOptions {
  version?: string;
  labels?: Record<string, string>;
  /** Available at `version` since this long ago (ms); undefined: not Available there. */
  availableFor?: number;
  paused?: boolean;
  record?: { uid?: string; rollout?: string; wave: string; version: string };
}

function cluster(name: string, options: ClusterOptions = {}): ObservedCluster {
  const version = options.version ?? 'v1.36.3';
  const since =
    options.availableFor === undefined ? undefined : new Date(NOW - options.availableFor).toISOString();
  return {
    metadata: {
      name,
      namespace: 'fleet',
      generation: 1,
      labels: options.labels ?? { fleet: 'test' },
      annotations: options.record
        ? {
            [ROLLOUT_RECORD_ANNOTATION]: recordValue({
              rollout: options.record.rollout ?? 'to-v1-36-4',
              uid: options.record.uid ?? UID,
              wave: options.record.wave,
              version: options.record.version,
              startedAt: NOW - 3_600_000,
            }),
          }
        : {},
    },
    spec: { version, ...(options.paused ? { paused: true } : {}) },
    status: {
      observedGeneration: 1,
      version: { current: version },
      conditions: since
        ? [
            {
              type: 'Available',
              status: 'True',
              reason: 'AllAvailable',
              message: '',
              lastTransitionTime: since,
            },
          ]
        : [],
    },
  };
}

function rollout(spec: Partial<ClusterRolloutSpec> = {}, uid?: string): ClusterRolloutView {
  return {
    metadata: { name: 'to-v1-36-4', namespace: 'fleet', ...(uid ? { uid } : {}) },
    spec: {
      clusterSelector: { matchLabels: { fleet: 'test' } },
      version: 'v1.36.4',
      waves: [
        { name: 'canary', count: 1, bakeSeconds: 60, pauseAfter: true },
        { name: 'early', percent: 50 },
      ],
      ...spec,
    },
  };
}

const FLEET = ['fleet-0', 'fleet-1', 'fleet-2', 'fleet-3', 'fleet-4'].map((name) => cluster(name));

function plan(overrides: Partial<ClusterRolloutPlanInput> = {}) {
  return clusterRolloutPlanView({
    rollout: rollout(),
    source: 'file',
    finished: false,
    clusters: FLEET,
    rollouts: [],
    now: NOW,
    ...overrides,
  });
}

const membersOf = (view: ReturnType<typeof plan>) =>
  view.waves.map((w) => [w.name, w.clusters.map((c) => c.cluster)]);

describe('clusterrollout plan', () => {
  it('splits a new rollout into its waves in name order, the rest last, and starts the canary', () => {
    const view = plan();
    expect(membersOf(view)).toEqual([
      ['canary', ['fleet-0']],
      ['early', ['fleet-1', 'fleet-2']],
      ['(remaining)', ['fleet-3', 'fleet-4']],
    ]);
    expect(view.waves.map((w) => [w.takes, w.bakeSeconds, w.pauseAfter, w.implicit])).toEqual([
      ['up to 1 in all', 60, true, false],
      ['up to 50% in all', 0, false, false],
      ['the rest', 0, false, true],
    ]);
    expect(view.startNow).toEqual(['fleet-0']);
    expect(view.waves[0]?.clusters[0]).toEqual({
      cluster: 'fleet-0',
      from: 'v1.36.3',
      to: 'v1.36.4',
      phase: 'Pending',
      startsNow: true,
      paused: false,
    });
    expect(view).toMatchObject({ phase: 'Progressing', currentWave: 0, bakeSeconds: 300, maxFailed: 0 });
  });

  it('ignores pauseAfter on the last wave, as the operator does', () => {
    const view = plan({
      rollout: rollout({
        waves: [
          { name: 'canary', count: 1 },
          { name: 'all', percent: 100, pauseAfter: true },
        ],
      }),
    });
    expect(view.waves.map((w) => [w.name, w.pauseAfter])).toEqual([
      ['canary', false],
      ['all', false],
    ]);
  });

  it('keeps a started cluster in the wave recorded on it, and moves on once the canary baked and a person resumed', () => {
    const clusters = [
      cluster('fleet-0', { labels: { fleet: 'test' } }),
      // Started by this rollout in the canary wave, Available at the version for an hour.
      cluster('fleet-4', {
        version: 'v1.36.4',
        availableFor: 3_600_000,
        record: { wave: 'canary', version: 'v1.36.4' },
      }),
      ...['fleet-1', 'fleet-2', 'fleet-3'].map((name) => cluster(name)),
    ];
    const live = rollout({}, UID);
    live.metadata.annotations = { 'clusters.kok.dev/paused-after-wave': 'v1.36.4/0' };
    const view = plan({ rollout: live, source: 'live', clusters });
    expect(membersOf(view)).toEqual([
      ['canary', ['fleet-4']],
      ['early', ['fleet-0', 'fleet-1']],
      ['(remaining)', ['fleet-2', 'fleet-3']],
    ]);
    expect(view.waves[0]?.clusters[0]).toMatchObject({ phase: 'Updated', from: 'v1.36.4' });
    expect(view.startNow).toEqual(['fleet-0', 'fleet-1']);
  });

  it('holds after the canary until resumed', () => {
    const clusters = [
      cluster('fleet-0', {
        version: 'v1.36.4',
        availableFor: 3_600_000,
        record: { wave: 'canary', version: 'v1.36.4' },
      }),
      ...FLEET.slice(1),
    ];
    const view = plan({ rollout: rollout({}, UID), source: 'live', clusters });
    expect(view.hold?.reason).toBe('PausedAfterWave');
    expect(view.startNow).toEqual([]);
  });

  it('starts nothing for a rollout that finished at its spec', () => {
    const view = plan({ finished: true, source: 'live', rollout: rollout({}, UID) });
    expect(view.startNow).toEqual([]);
    expect(view.finished).toContain('moves no cluster until the spec changes');
    // Whatever the clusters did since (here: none of them moved), the operator holds it Succeeded.
    expect(view).toMatchObject({ phase: 'Succeeded', message: view.finished });
    expect(view.currentWave).toBeUndefined();
  });

  it('leaves out clusters another unfinished rollout holds, naming it, and paused clusters are not started', () => {
    const other: ClusterRolloutView = {
      metadata: { name: 'older', namespace: 'fleet', uid: 'uid-older' },
      spec: { clusterSelector: {}, version: 'v1.36.5' },
      status: { phase: 'Progressing' },
    };
    const clusters = [
      cluster('fleet-0', { paused: true }),
      cluster('fleet-1', { record: { uid: 'uid-older', rollout: 'older', wave: 'w', version: 'v1.36.5' } }),
      cluster('other-0', { labels: { fleet: 'prod' } }),
      ...FLEET.slice(2),
    ];
    const view = plan({ clusters, rollouts: [other] });
    expect(view.heldElsewhere).toEqual([{ cluster: 'fleet-1', rollout: 'older' }]);
    expect(membersOf(view)).toEqual([
      ['canary', ['fleet-0']],
      ['early', ['fleet-2']],
      ['(remaining)', ['fleet-3', 'fleet-4']],
    ]);
    expect(view.waves[0]?.clusters[0]).toMatchObject({ paused: true, startsNow: false });
    expect(view.message).toContain('waiting on fleet-0 (paused');
  });

  it.each([
    [{}, '<all>'],
    [{ matchLabels: { tier: 'prod', region: 'hz' } }, 'tier=prod,region=hz'],
    [
      {
        matchExpressions: [
          { key: 'zone', operator: 'In' as const, values: ['a', 'b'] },
          { key: 'legacy', operator: 'DoesNotExist' as const },
        ],
      },
      'zone in (a,b),!legacy',
    ],
  ])('writes the selector %j as %s', (selector, text) => {
    expect(selectorText(selector)).toBe(text);
  });
});

describe('clusterrollout plan as text', () => {
  it('shows the selection, each wave with its members, versions, bakes and pauses, and what starts now', () => {
    expect(renderClusterRolloutPlan(plan())).toBe(`ClusterRollout:  fleet/to-v1-36-4 (as proposed in the file)
Version:         v1.36.4
Selector:        fleet=test: 5 Clusters
Bake:            each cluster 300s Available at v1.36.4
maxFailed:       0
Phase:           Progressing
Status:          wave 0 (canary): 0 of 5 clusters at v1.36.4

Waves, in order (a wave starts once the one before finished, baked and was resumed if it pauses):
WAVE            TAKES              CLUSTER   VERSION             STATE     NOW          THEN
0 canary        up to 1 in all     fleet-0   v1.36.3 → v1.36.4   Pending   starts now   bake 60s, pause until resumed
1 early         up to 50% in all   fleet-1   v1.36.3 → v1.36.4   Pending
                                   fleet-2   v1.36.3 → v1.36.4   Pending
2 (remaining)   the rest           fleet-3   v1.36.3 → v1.36.4   Pending
                                   fleet-4   v1.36.3 → v1.36.4   Pending
Starts now: fleet-0
`);
  });

  it('says so when the selector matches nothing', () => {
    const text = renderClusterRolloutPlan(plan({ clusters: [], rollout: rollout({ waves: [] }) }));
    expect(text).toContain('Status:          the clusterSelector selects no Cluster');
    expect(text).toContain('Starts now: none');
  });
});

describe('clusterrollout plan with node-pool versions', () => {
  const components = [{ name: 'kubelet', version: 'v1.36.4' }];
  /** At v1.36.4, Available for an hour, started in the canary, with spec.nodePools and its NodePoolsUpToDate. */
  function atVersion(name: string, upToDate: { status: 'True' | 'False'; message: string } | undefined) {
    const c = cluster(name, {
      version: 'v1.36.4',
      availableFor: 3_600_000,
      record: { wave: 'canary', version: 'v1.36.4' },
    });
    c.spec.nodePools = { components };
    if (upToDate)
      c.status?.conditions?.push({
        type: 'NodePoolsUpToDate',
        reason: upToDate.status === 'True' ? 'UpToDate' : 'RollingOut',
        observedGeneration: 1,
        lastTransitionTime: new Date(NOW - 1_800_000).toISOString(),
        ...upToDate,
      });
    return c;
  }
  const withPools = (clusters: ObservedCluster[]) =>
    plan({
      clusters,
      rollout: rollout({ nodePools: { components }, waves: [{ name: 'canary', count: 1 }] }),
    });

  it('shows each cluster’s NodePools step: after the control plane, moving with the Cluster’s message, up to date', () => {
    const moving = withPools([
      atVersion('fleet-0', {
        status: 'False',
        message: '0 of 1 NodePools …; still moving: a (paused (Paused))',
      }),
      cluster('fleet-1'),
    ]);
    expect(moving.nodePools).toBe('kubelet v1.36.4');
    expect(moving.waves.map((w) => w.clusters.map((c) => [c.cluster, c.phase, c.nodePools]))).toEqual([
      [['fleet-0', 'Upgrading', 'moving: 0 of 1 NodePools …; still moving: a (paused (Paused))']],
      [['fleet-1', 'Pending', 'after the control plane']],
    ]);
    expect(moving.startNow).toEqual([]);

    const done = withPools([atVersion('fleet-0', { status: 'True', message: '' }), cluster('fleet-1')]);
    expect(done.waves[0]?.clusters[0]).toMatchObject({ phase: 'Updated', nodePools: 'up to date' });
    expect(done.startNow).toEqual(['fleet-1']);
  });

  it('starts a cluster at the version whose NodePools lack the versions', () => {
    const c = atVersion('fleet-0', undefined);
    delete c.spec.nodePools;
    expect(withPools([c]).waves[0]?.clusters[0]).toMatchObject({
      phase: 'Pending',
      startsNow: true,
      nodePools: 'after the control plane',
    });
  });

  it('adds the NodePools column and says the bake waits for them', () => {
    const text = renderClusterRolloutPlan(withPools([atVersion('fleet-0', { status: 'True', message: '' })]));
    expect(text).toContain(
      "Node pools:      kubelet v1.36.4, in each cluster's NodePools after its control plane",
    );
    expect(text).toContain(
      'Bake:            each cluster 300s Available at v1.36.4, its NodePools up to date',
    );
    expect(text).toMatch(/STATE +NODEPOOLS +NOW/);
    expect(text).toMatch(/fleet-0 +v1\.36\.4 +Updated +up to date/);
  });
});
