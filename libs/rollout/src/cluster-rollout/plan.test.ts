import { describe, expect, it } from 'vitest';
import type { ClusterState, ClusterWaveSpec, RolloutInput } from './plan.ts';
import { describeFailures, planClusterRollout } from './plan.ts';

const OLD = 'v1.36.3';
const NEW = 'v1.36.4';
const T0 = Date.parse('2026-01-01T00:00:00Z');
const S = 1000;

const names = (n: number) => Array.from({ length: n }, (_, i) => `c${String(i).padStart(2, '0')}`);
const WAVES: ClusterWaveSpec[] = [
  { name: 'canary', count: 1 },
  { name: 'early', percent: 30 },
];

function fleet(n: number, overrides: Record<string, Partial<ClusterState>> = {}): ClusterState[] {
  return names(n).map((name) => ({ name, labels: {}, version: OLD, ...overrides[name] }));
}

/** At the target, Available since `since`, started by the rollout in `wave`. */
const updated = (wave: string, since = T0): Partial<ClusterState> => ({
  version: NEW,
  availableSince: since,
  record: { wave, version: NEW, startedAt: since - 10 * S },
});
const upgrading = (wave: string): Partial<ClusterState> => ({
  version: NEW,
  record: { wave, version: NEW, startedAt: T0 },
});

function input(clusters: ClusterState[], extra: Partial<RolloutInput> = {}): RolloutInput {
  return {
    version: NEW,
    waves: WAVES,
    bakeSeconds: 60,
    maxFailed: 0,
    paused: false,
    clusters,
    now: T0 + 3600 * S,
    ...extra,
  };
}

describe('ClusterRollout planner', () => {
  it('splits 10 clusters into [1], [30%] and the rest, and starts only the canary', () => {
    const plan = planClusterRollout(input(fleet(10)));
    expect(plan.waves.map((w) => [w.name, w.members])).toEqual([
      ['canary', ['c00']],
      ['early', ['c01', 'c02']],
      ['(remaining)', ['c03', 'c04', 'c05', 'c06', 'c07', 'c08', 'c09']],
    ]);
    expect(plan.start).toEqual([{ cluster: 'c00', wave: 'canary' }]);
    expect(plan).toMatchObject({ phase: 'Progressing', currentWave: 0 });
    expect(plan.counts).toEqual({ clusters: 10, updated: 0, upgrading: 0, failed: 0, pending: 10 });
  });

  it('starts nothing more while a wave is upgrading', () => {
    const plan = planClusterRollout(input(fleet(10, { c00: upgrading('canary') })));
    expect(plan.start).toEqual([]);
    expect(plan.waves[0]).toMatchObject({ state: 'Progressing', upgrading: 1, startedAt: T0 });
    expect(plan.currentWave).toBe(0);
  });

  it('waits for every cluster of the wave to bake, and wakes when the bake ends', () => {
    const now = T0 + 30 * S;
    const plan = planClusterRollout(input(fleet(10, { c00: updated('canary') }), { now }));
    expect(plan.start).toEqual([]);
    expect(plan.waves[0]).toMatchObject({ state: 'Baking', upgrading: 1, updated: 0 });
    expect(plan.wakeAt).toBe(T0 + 60 * S);
  });

  it('waits the wave bakeSeconds after its last cluster is updated', () => {
    const waves = [{ ...WAVES[0], bakeSeconds: 120 } as ClusterWaveSpec, WAVES[1] as ClusterWaveSpec];
    const now = T0 + 100 * S; // updated at T0 + 60 s, wave baked at T0 + 180 s
    const plan = planClusterRollout(input(fleet(10, { c00: updated('canary') }), { waves, now }));
    expect(plan.start).toEqual([]);
    expect(plan.waves[0]).toMatchObject({ state: 'Baking', updated: 1, finishedAt: T0 + 60 * S });
    expect(plan.wakeAt).toBe(T0 + 180 * S);
    const later = planClusterRollout(
      input(fleet(10, { c00: updated('canary') }), { waves, now: T0 + 180 * S }),
    );
    expect(later.start.map((s) => s.cluster)).toEqual(['c01', 'c02']);
  });

  it('starts the next wave in name order once the previous one is updated and baked', () => {
    const plan = planClusterRollout(input(fleet(10, { c00: updated('canary') })));
    expect(plan.start).toEqual([
      { cluster: 'c01', wave: 'early' },
      { cluster: 'c02', wave: 'early' },
    ]);
    expect(plan.waves[0]).toMatchObject({ state: 'Succeeded', updated: 1, finishedAt: T0 + 60 * S });
    expect(plan.currentWave).toBe(1);
  });

  it('starts nothing while paused', () => {
    const plan = planClusterRollout(input(fleet(10, { c00: updated('canary') }), { paused: true }));
    expect(plan.start).toEqual([]);
    expect(plan).toMatchObject({ phase: 'Paused', hold: { reason: 'Paused' } });
  });

  it('names a started Cluster its operator holds, and why, without counting it failed', () => {
    const why = 'KubeletVersionSkew: the control plane stays at v1.36.3 until those kubelets are upgraded';
    const plan = planClusterRollout(
      input(
        fleet(10, {
          c00: updated('canary', T0),
          c01: { ...upgrading('early'), held: why },
          c02: upgrading('early'),
        }),
      ),
    );
    expect(plan).toMatchObject({ phase: 'Progressing', currentWave: 1, failed: [] });
    expect(plan.counts).toMatchObject({ failed: 0, upgrading: 2 });
    expect(plan.message).toContain(`held by its operator: c01 (${why})`);
    // Once it moves on, the message no longer names it.
    const moved = planClusterRollout(
      input(fleet(10, { c00: updated('canary', T0), c01: upgrading('early') })),
    );
    expect(moved.message).not.toContain('held');
  });

  it('starts no paused Cluster, and says which paused ones the wave waits on', () => {
    const plan = planClusterRollout(
      input(
        fleet(10, {
          c00: updated('canary', T0),
          c01: { paused: true },
          c02: { ...upgrading('early'), paused: true },
          c05: { paused: true },
        }),
      ),
    );
    expect(plan.start).toEqual([]);
    expect(plan).toMatchObject({ phase: 'Progressing', currentWave: 1 });
    expect(plan.message).toContain('waiting on c01, c02 (');
    expect(plan.message).toContain('paused: the Cluster does not upgrade until resumed');

    const resumed = planClusterRollout(
      input(fleet(10, { c00: updated('canary', T0), c02: upgrading('early') })),
    );
    expect(resumed.start).toEqual([{ cluster: 'c01', wave: 'early' }]);
    expect(resumed.message).not.toContain('waiting on');
  });

  it('stops when more than maxFailed clusters failed, naming them, and starts nothing of that wave', () => {
    const clusters = fleet(10, {
      c00: updated('canary'),
      c01: { ...upgrading('early'), failure: 'apiServer did not become Available at v1.36.4 within 4 s' },
    });
    const plan = planClusterRollout(input(clusters));
    expect(plan.phase).toBe('Failed');
    expect(plan.start).toEqual([]);
    expect(plan.hold?.reason).toBe('FailureBudgetExceeded');
    expect(plan.message).toBe(
      '1 cluster failed at v1.36.4 (maxFailed 0): c01 (apiServer did not become Available at v1.36.4 within 4 s); no further cluster starts',
    );
    expect(plan.newFailures).toEqual([
      { cluster: 'c01', wave: 'early', message: 'apiServer did not become Available at v1.36.4 within 4 s' },
    ]);
    expect(plan.counts).toMatchObject({ failed: 1, updated: 1, pending: 8 });
  });

  it('goes on within the failure budget, and the wave with the failure ends Failed', () => {
    const clusters = fleet(10, {
      c00: {
        ...upgrading('canary'),
        failure: 'rolled back',
        record: { wave: 'canary', version: NEW, startedAt: T0, failedAt: T0 },
      },
    });
    const plan = planClusterRollout(input(clusters, { maxFailed: 1 }));
    expect(plan.waves[0]).toMatchObject({ state: 'Failed', failed: 1, finishedAt: T0 });
    expect(plan.start.map((s) => s.cluster)).toEqual(['c01', 'c02']);
    expect(plan.newFailures).toEqual([]);
    expect(plan.message).toContain('1 failed (maxFailed 1): c00 (rolled back)');
  });

  it('keeps a recorded failure when the cluster was moved back by hand', () => {
    const clusters = fleet(10, {
      c00: { record: { wave: 'canary', version: NEW, startedAt: T0, failedAt: T0, failure: 'rolled back' } },
    });
    const plan = planClusterRollout(input(clusters));
    expect(plan.phase).toBe('Failed');
    expect(plan.start).toEqual([]);
    expect(plan.message).toContain('c00 (rolled back)');
  });

  it('pauses after a pauseAfter wave, and goes on once resumed after it', () => {
    const waves = [{ ...WAVES[0], pauseAfter: true } as ClusterWaveSpec, WAVES[1] as ClusterWaveSpec];
    const clusters = fleet(10, { c00: updated('canary') });
    const reached = planClusterRollout(input(clusters, { waves }));
    expect(reached).toMatchObject({ phase: 'Paused', pauseAfterWave: 0, start: [] });
    expect(reached.hold?.reason).toBe('PausedAfterWave');
    const held = planClusterRollout(input(clusters, { waves, paused: true }));
    expect(held).toMatchObject({ phase: 'Paused', start: [] });
    expect(held.pauseAfterWave).toBeUndefined();
    const resumed = planClusterRollout(input(clusters, { waves, resumedAfterWave: 0 }));
    expect(resumed.start.map((s) => s.cluster)).toEqual(['c01', 'c02']);
  });

  it('keeps a started cluster in its recorded wave when a new cluster joins the selection', () => {
    const clusters = [
      ...fleet(10, { c00: upgrading('canary') }),
      { name: 'a-new', labels: {}, version: OLD },
    ];
    const plan = planClusterRollout(input(clusters));
    expect(plan.waves[0]?.members).toEqual(['c00']);
    expect(plan.waves[1]?.members).toEqual(['a-new', 'c01', 'c02']); // 30 % of 11 is 4 clusters in all
  });

  it('takes selector waves first, then grows to a percentage (the example)', () => {
    const clusters = fleet(8).map((c) => (c.name === 'c05' ? { ...c, labels: { canary: 'true' } } : c));
    const waves: ClusterWaveSpec[] = [
      { name: 'canary', selector: { matchLabels: { canary: 'true' } } },
      { name: 'quarter', percent: 25 },
    ];
    const plan = planClusterRollout(input(clusters, { waves }));
    expect(plan.waves.map((w) => w.members)).toEqual([
      ['c05'],
      ['c00'],
      ['c01', 'c02', 'c03', 'c04', 'c06', 'c07'],
    ]);
    expect(plan.start).toEqual([{ cluster: 'c05', wave: 'canary' }]);
  });

  it('succeeds once every cluster is updated and every wave baked', () => {
    const clusters = fleet(3).map((c) => ({ ...c, ...updated('x') }));
    const plan = planClusterRollout(input(clusters));
    expect(plan).toMatchObject({ phase: 'Succeeded', start: [], message: '3 of 3 clusters at v1.36.4' });
    expect(plan.currentWave).toBeUndefined();
    expect(plan.waves.map((w) => w.state)).toEqual(['Succeeded', 'Succeeded', 'Succeeded']);
  });

  it('is Pending when the selector selects nothing', () => {
    expect(planClusterRollout(input([]))).toMatchObject({
      phase: 'Pending',
      message: 'the clusterSelector selects no Cluster',
    });
  });

  it('does not hold on an empty wave', () => {
    const waves: ClusterWaveSpec[] = [
      { name: 'one', count: 1, bakeSeconds: 600 },
      { name: 'still-one', count: 1, bakeSeconds: 600 },
    ];
    const plan = planClusterRollout(
      input(fleet(3, { c00: updated('one', T0 - 3600 * S) }), { waves, now: T0 }),
    );
    expect(plan.start.map((s) => s.cluster)).toEqual(['c01', 'c02']);
  });

  it('names the first failures and counts the rest', () => {
    const failed = names(7).map((cluster) => ({ cluster, message: '' }));
    expect(describeFailures(failed)).toBe('c00, c01, c02, c03, c04 and 2 more');
    expect(describeFailures([{ cluster: 'a', message: 'x'.repeat(400) }])).toBe(`a (${'x'.repeat(300)}…)`);
  });
});

describe('ClusterRollout planner with node-pool versions', () => {
  const POOLS = [
    { name: 'kubelet', version: 'v1.36.4' },
    { name: 'containerd', version: '2.1.0' },
  ];
  const withPools = (clusters: ClusterState[], extra: Partial<RolloutInput> = {}) =>
    input(clusters, { nodePools: POOLS, bakeSeconds: 60, ...extra });
  /** At the version, control plane Available since T0, its pools as `pools`. */
  const atVersion = (pools: Partial<ClusterState>): Partial<ClusterState> => ({
    ...updated('canary'),
    nodePools: [...POOLS].reverse(),
    ...pools,
  });

  it.each([
    ['pools not written yet: started again', { nodePools: undefined }, 'Pending'],
    [
      'pools at other versions: started again',
      { nodePools: [{ name: 'kubelet', version: 'v1.36.3' }] },
      'Pending',
    ],
    ['pools not up to date: still upgrading', {}, 'Upgrading'],
    ['pools up to date 30 s ago: baking from then', { nodePoolsUpToDateSince: T0 + 3570 * S }, 'Baking'],
    ['pools up to date long ago: updated', { nodePoolsUpToDateSince: T0 - 3600 * S }, 'Updated'],
  ])('%s', (_, pools, phase) => {
    const plan = planClusterRollout(withPools(fleet(1, { c00: atVersion(pools) })));
    const state = plan.counts;
    expect(
      {
        Pending: state.pending,
        Upgrading: state.upgrading,
        Baking: state.upgrading,
        Updated: state.updated,
      }[phase],
    ).toBe(1);
    expect(plan.start).toEqual(phase === 'Pending' ? [{ cluster: 'c00', wave: 'canary' }] : []);
  });

  it('bakes from when the pools were up to date, waking then', () => {
    const upToDate = T0 + 3570 * S;
    const plan = planClusterRollout(
      withPools(fleet(1, { c00: atVersion({ nodePoolsUpToDateSince: upToDate }) })),
    );
    expect(plan.waves[0]).toMatchObject({ state: 'Baking', upgrading: 1 });
    expect(plan.wakeAt).toBe(upToDate + 60 * S);
  });

  it('keeps the next wave waiting until the canary’s pools are up to date', () => {
    const canaryMoving = planClusterRollout(withPools(fleet(3, { c00: atVersion({}) })));
    expect(canaryMoving).toMatchObject({ currentWave: 0, start: [] });
    const canaryDone = planClusterRollout(
      withPools(fleet(3, { c00: atVersion({ nodePoolsUpToDateSince: T0 - 3600 * S }) }), {
        waves: WAVES.slice(0, 1),
      }),
    );
    expect(canaryDone.start).toEqual([
      { cluster: 'c01', wave: '(remaining)' },
      { cluster: 'c02', wave: '(remaining)' },
    ]);
  });

  it('without node-pool versions, a cluster’s pools do not count', () => {
    const plan = planClusterRollout(input(fleet(1, { c00: { ...updated('canary'), nodePools: undefined } })));
    expect(plan.counts.updated).toBe(1);
  });
});
