import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { machineProgress } from './machine-progress.ts';
import { poolWaves } from './pool-waves.ts';
import { condition, machine, pool } from './test-support/objects.ts';

const T = 'aaaaaaaaaa';
const OLD = 'bbbbbbbbbb';

describe('machineProgress', () => {
  it.each([
    ['not told the target', machine('m', { desired: OLD, current: OLD }), 'Pending'],
    ['never told anything', machine('m'), 'Pending'],
    ['told, agent not there yet', machine('m', { desired: T, current: OLD }), 'Updating'],
    ['told and running it', machine('m', { desired: T, current: T }), 'Updated'],
    ['failed converging to the target', machine('m', { desired: T, current: OLD, failed: true }), 'Failed'],
    ['failed at an older revision', machine('m', { desired: OLD, current: OLD, failed: true }), 'Pending'],
  ] as const)('%s: %s', (_, subject, expected) => {
    expect(machineProgress(subject, T)).toBe(expected);
  });

  it('counts UpToDate=False for ComponentFailed as a failure, other reasons not', () => {
    const failing = machine('m', { desired: T, current: OLD });
    failing.status = {
      ...failing.status,
      conditions: [condition('UpToDate', 'False', 'ComponentFailed', 'kubelet')],
    };
    expect(machineProgress(failing, T)).toBe('Failed');
    failing.status.conditions = [condition('UpToDate', 'False', 'Converging')];
    expect(machineProgress(failing, T)).toBe('Updating');
  });

  it.each([
    ['told the target, past its progress deadline', { desired: T, current: OLD }],
    ['not told the target yet, its drain for it timed out', { desired: OLD, current: OLD }],
  ] as const)(
    'counts a machine the rollout holds failed (RolloutFailed True) as Failed: %s',
    (_, options) => {
      const failing = machine('m', options);
      failing.status = {
        ...failing.status,
        conditions: [condition('RolloutFailed', 'True', 'ProgressDeadlineExceeded', 'stuck')],
      };
      expect(machineProgress(failing, T)).toBe('Failed');
      failing.status.conditions = [condition('RolloutFailed', 'False', 'Healthy')];
      expect(machineProgress(failing, T)).not.toBe('Failed');
    },
  );
});

describe('poolWaves', () => {
  const fleet = (n: number) =>
    Array.from({ length: n }, (_, i) =>
      machine(`w-${i + 1}`, { pool: 'workers', desired: OLD, current: OLD }),
    );

  it('takes cumulative counts in natural name order and puts the rest in a last wave', () => {
    const spec = {
      rollout: {
        waves: [
          { name: 'canary', count: 1, bakeSeconds: 600 },
          { name: 'ten', count: 3, pauseAfter: true },
        ],
      },
    };
    const { waves } = poolWaves(pool('workers', spec), fleet(10), T);
    expect(waves.map((w) => [w.name, w.machines, w.implicit, w.bakeSeconds, w.pauseAfter])).toEqual([
      ['canary', 1, false, 600, false],
      ['ten', 2, false, 0, true],
      ['(remaining)', 7, true, 0, false],
    ]);
  });

  it('rounds percentages up, so 1% of a small pool is still a canary of one', () => {
    const { waves } = poolWaves(
      pool('workers', { rollout: { waves: [{ name: 'c', percent: 1 }] } }),
      fleet(50),
      T,
    );
    expect(waves.map((w) => w.machines)).toEqual([1, 49]);
  });

  it('adds a selector wave’s matches and orders by the order label keys first', () => {
    const machines = [
      machine('w-1', { pool: 'workers', labels: { zone: 'b' } }),
      machine('w-2', { pool: 'workers', labels: { zone: 'a', canary: 'true' } }),
      machine('w-3', { pool: 'workers', labels: { zone: 'a' } }),
    ];
    const spec = {
      rollout: {
        order: { labelKeys: ['zone'] },
        waves: [
          { name: 'first', count: 1 },
          { name: 'canaries', selector: { matchLabels: { canary: 'true' } } },
        ],
      },
    };
    const view = poolWaves(pool('workers', spec), machines, T);
    // zone a first, then by name: w-2, w-3, then w-1. The canary w-2 is already taken by "first".
    expect(view.waves.map((w) => [w.name, w.machines])).toEqual([
      ['first', 1],
      ['canaries', 0],
      ['(remaining)', 2],
    ]);
  });

  it('counts progress per wave and names the failed machines with the agent’s message', () => {
    const machines = [
      machine('w-1', { pool: 'workers', desired: T, current: T }),
      machine('w-2', { pool: 'workers', desired: T, current: OLD, failed: true }),
      machine('w-3', { pool: 'workers', desired: T, current: OLD }),
      machine('w-4', { pool: 'workers', desired: OLD, current: OLD }),
    ];
    const { waves, failed } = poolWaves(
      pool('workers', { rollout: { waves: [{ name: 'c', count: 2 }] } }),
      machines,
      T,
    );
    expect(waves.map((w) => [w.updated, w.failed, w.updating, w.pending])).toEqual([
      [1, 1, 0, 0],
      [0, 0, 1, 1],
    ]);
    expect(failed).toEqual([{ name: 'w-2', message: 'kubelet: exec check exited 1' }]);
  });

  it('lists a machine the rollout counts failed among the failed, with the rollout’s message', () => {
    const deadline = `ProgressDeadlineExceeded, not healthy at revision ${T} 600s after it was told: Node NotReady`;
    const stuck = machine('w-2', { pool: 'workers', desired: T, current: OLD });
    stuck.status = {
      ...stuck.status,
      conditions: [
        condition('AgentReady', 'False', 'ArtifactDownloadFailed', 'kubelet: download failed'),
        condition('UpToDate', 'False', 'ArtifactDownloadFailed', 'kubelet: download failed'),
        condition('RolloutFailed', 'True', 'ProgressDeadlineExceeded', deadline),
      ],
    };
    const machines = [
      machine('w-1', { pool: 'workers', desired: T, current: OLD, failed: true }),
      stuck,
      machine('w-3', { pool: 'workers', desired: T, current: OLD }),
    ];
    const { waves, failed } = poolWaves(pool('workers'), machines, T);
    expect(waves.map((w) => [w.updated, w.failed, w.updating, w.pending])).toEqual([[0, 2, 1, 0]]);
    expect(failed).toEqual([
      { name: 'w-1', message: 'kubelet: exec check exited 1' },
      { name: 'w-2', message: deadline },
    ]);
  });

  it('without waves, one wave of all machines', () => {
    const { waves } = poolWaves(pool('workers'), fleet(3), T);
    expect(waves.map((w) => [w.name, w.machines])).toEqual([['(all machines)', 3]]);
  });

  it('puts every pool member in exactly one wave, whatever the waves say', () => {
    const waveArb = fc.oneof(
      fc.record({ count: fc.integer({ min: 1, max: 40 }) }),
      fc.record({ selector: fc.record({ matchLabels: fc.record({ rack: fc.constantFrom('r1', 'r2') }) }) }),
    );
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom('r1', 'r2', 'r3'), fc.boolean(), fc.constantFrom(T, OLD)), {
          maxLength: 30,
        }),
        fc.array(waveArb, { maxLength: 4 }),
        (hosts, waveSpecs) => {
          const machines = hosts.map(([rack, member, revision], i) =>
            machine(`m-${i}`, {
              pool: member ? 'workers' : 'other',
              labels: { rack },
              desired: revision,
              current: revision,
            }),
          );
          const waves = waveSpecs.map((w, i) => ({ name: `w${i}`, ...w }));
          const view = poolWaves(pool('workers', { rollout: { waves } }), machines, T);
          const members = hosts.filter(([, member]) => member).length;
          expect(view.waves.reduce((sum, w) => sum + w.machines, 0)).toBe(members);
          for (const w of view.waves) expect(w.updated + w.updating + w.failed + w.pending).toBe(w.machines);
          expect(view.waves.filter((w) => w.implicit).length).toBeLessThanOrEqual(1);
        },
      ),
    );
  });
});
