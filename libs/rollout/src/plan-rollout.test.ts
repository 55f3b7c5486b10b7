import { describe, expect, it } from 'vitest';
import { planRollout } from './plan-rollout.ts';
import type { RolloutInput } from './rollout-plan.ts';
import type { MachineState } from './machine-state.ts';
import type { RolloutSpec } from './rollout-spec.ts';
import { doneAtTarget, machine, NOW, workers } from './test-support/machines.ts';

function plan(machines: MachineState[], spec: RolloutSpec = {}, extra: Partial<RolloutInput> = {}) {
  return planRollout({
    pool: 'workers',
    spec,
    targetRevision: 'r2',
    lastGoodRevision: 'r1',
    machines,
    now: NOW,
    ...extra,
  });
}

const assigned = (revision: string, machines: readonly string[]) =>
  machines.map((name) => ({ machine: name, revision }));

describe('planRollout: starting machines', () => {
  it('cordons and drains the first machines in order, up to maxUnavailable, before handing out the revision', () => {
    const result = plan(workers(5), { maxUnavailable: 2 });
    expect(result.cordon).toEqual(['worker-1', 'worker-2']);
    expect(result.drain).toEqual(['worker-1', 'worker-2']);
    expect(result.assign).toEqual([]);
    expect(result.pause).toBeUndefined();
    expect(result.message).toBe(
      'NodePool "workers" rolling out revision r2: at waves[0] (all machines), 0/5 machines updated, 0 unavailable (maxUnavailable 2); starting worker-1, worker-2; 3 machines waiting for room in maxUnavailable 2',
    );
  });

  it('hands a change that needs no drain straight to the agent, still within maxUnavailable', () => {
    const result = plan(workers(5, { needsDisruption: false }), { maxUnavailable: '40%' });
    expect(result.maxUnavailable).toBe(2);
    expect(result.assign).toEqual(assigned('r2', ['worker-1', 'worker-2']));
    expect(result.cordon).toEqual([]);
  });

  it('gives a drained machine the revision, and keeps draining one that is not drained yet', () => {
    const result = plan(
      [
        machine('worker-1', { cordoned: true, cordonedByRollout: true, drained: true }),
        machine('worker-2', { cordoned: true, cordonedByRollout: true, drained: false }),
        machine('worker-3'),
      ],
      { maxUnavailable: 2 },
    );
    expect(result.assign).toEqual(assigned('r2', ['worker-1']));
    expect(result.drain).toEqual(['worker-2']);
    expect(result.cordon).toEqual([]);
  });

  it('slides: a finished machine is uncordoned and the next starts while others still update', () => {
    const machines = [
      doneAtTarget('worker-1', { cordoned: true, cordonedByRollout: true }),
      machine('worker-2', { desiredRevision: 'r2', ready: false, cordoned: true, cordonedByRollout: true }),
      machine('worker-3'),
    ];
    const first = plan(machines, { maxUnavailable: 2 });
    expect(first.uncordon).toEqual(['worker-1']);
    // worker-1 is still cordoned until the uncordon lands, so it still holds its place.
    expect(first.cordon).toEqual([]);

    const second = plan([doneAtTarget('worker-1'), ...machines.slice(1)], { maxUnavailable: 2 });
    expect(second.cordon).toEqual(['worker-3']);
    expect(second.counts).toEqual({
      machines: 3,
      updatedMachines: 1,
      readyMachines: 2,
      unavailableMachines: 1,
      failedMachines: 0,
    });
  });

  it('counts machines down for any reason against the budget, and says which', () => {
    const result = plan(
      [
        machine('worker-1'),
        machine('worker-2'),
        machine('worker-3', { ready: false }),
        machine('worker-4', { underRemediation: true }),
      ],
      { maxUnavailable: 2 },
    );
    // worker-3 is already down, so updating it costs nothing; the healthy ones must wait.
    expect(result.cordon).toEqual(['worker-3']);
    expect(result.assign).toEqual([]);
    expect(result.message).toContain(
      '2 machines waiting for room in maxUnavailable 2, taken by worker-3 (NotReady), worker-4 (under remediation)',
    );
  });

  it('updates a machine that is already down without taking another place', () => {
    const result = plan([machine('worker-1'), machine('worker-2', { ready: false }), machine('worker-3')], {
      maxUnavailable: 1,
    });
    expect(result.cordon).toEqual(['worker-2']);
  });

  it('starts nothing with maxUnavailable 0', () => {
    const result = plan(workers(3), { maxUnavailable: 0 });
    expect(result.cordon).toEqual([]);
    expect(result.assign).toEqual([]);
    expect(result.message).toContain('3 machines waiting for room in maxUnavailable 0');
  });

  it('leaves machines cordoned by someone else, or under remediation, alone and says so', () => {
    const result = plan(
      [
        machine('worker-1', { cordoned: true }),
        machine('worker-2', { underRemediation: true }),
        machine('worker-3'),
      ],
      { maxUnavailable: 3 },
    );
    expect(result.cordon).toEqual(['worker-3']);
    expect(result.message).toContain(
      'waiting on worker-1 (cordoned outside the rollout), worker-2 (under remediation)',
    );
    expect(result.uncordon).toEqual([]);
  });

  it('follows the order keys, then the name', () => {
    const result = plan(
      [
        machine('n1', { labels: { zone: 'b' } }),
        machine('n2', { labels: { zone: 'a' } }),
        machine('n3', { labels: { zone: 'a' } }),
      ],
      { maxUnavailable: 2, order: ['zone'] },
    );
    expect(result.cordon).toEqual(['n2', 'n3']);
  });
});

describe('planRollout: waves', () => {
  const canary: RolloutSpec = {
    maxUnavailable: 3,
    waves: [
      { name: 'canary', count: 1, pauseAfter: true },
      { percent: 50, bakeSeconds: 600 },
      { percent: 100 },
    ],
  };

  it('starts only the canary, even with room for more', () => {
    const result = plan(workers(6), canary);
    expect(result.cordon).toEqual(['worker-1']);
    expect(result.currentWave).toBe(0);
    expect(result.waveCount).toBe(3);
  });

  it('pauses after a wave with pauseAfter, and a resume past it continues', () => {
    const fleet = [doneAtTarget('worker-1'), ...workers(6).slice(1)];
    const held = plan(fleet, canary);
    expect(held.pause).toEqual({
      reason: 'AwaitingResume',
      message:
        'NodePool "workers" paused after "canary" (waves[0]) (pauseAfter: true); resume the rollout past "canary" (waves[0]) to start waves[1]',
    });
    expect(held.cordon).toEqual([]);
    expect(held.wakeAt).toBeUndefined();

    const resumed = plan(fleet, canary, { resumedAfterWave: 0 });
    expect(resumed.pause).toBeUndefined();
    expect(resumed.currentWave).toBe(1);
    expect(resumed.cordon).toEqual(['worker-2', 'worker-3']);
  });

  it('bakes a complete wave before the next starts, and wakes up when the bake is over', () => {
    const fleet = [
      doneAtTarget('worker-1'),
      doneAtTarget('worker-2', { finishedAt: NOW - 120_000 }),
      doneAtTarget('worker-3', { finishedAt: NOW - 300_000 }),
      ...workers(6).slice(3),
    ];
    const baking = plan(fleet, canary, { resumedAfterWave: 0 });
    const bakeEnd = NOW - 120_000 + 600_000;
    expect(baking.pause).toEqual({
      reason: 'Baking',
      until: bakeEnd,
      message: `NodePool "workers" baking waves[1] until ${new Date(bakeEnd).toISOString()} (bakeSeconds 600)`,
    });
    expect(baking.wakeAt).toBe(bakeEnd);
    expect(baking.currentWave).toBe(1);
    expect(baking.cordon).toEqual([]);

    const baked = plan(fleet, canary, { resumedAfterWave: 0, now: bakeEnd });
    expect(baked.pause).toBeUndefined();
    expect(baked.cordon).toEqual(['worker-4', 'worker-5', 'worker-6']);
  });

  it('holds a timed pauseAfter, then goes on by itself', () => {
    const spec: RolloutSpec = { maxUnavailable: 2, waves: [{ count: 1, pauseAfter: 300 }] };
    const fleet = [doneAtTarget('worker-1', { finishedAt: NOW - 100_000 }), machine('worker-2')];
    const holding = plan(fleet, spec);
    expect(holding.pause).toMatchObject({ reason: 'PauseAfter', until: NOW + 200_000 });
    expect(holding.pause?.message).toContain('then waves[1] (remaining machines) starts');
    expect(holding.wakeAt).toBe(NOW + 200_000);
    expect(plan(fleet, spec, { now: NOW + 200_000 }).cordon).toEqual(['worker-2']);
  });

  it('keeps going in an opened wave when an earlier one regresses, but does not open the next', () => {
    const spec: RolloutSpec = { maxUnavailable: 2, waves: [{ count: 1 }, { count: 3 }] };
    const fleet = [
      doneAtTarget('worker-1', { ready: false }),
      doneAtTarget('worker-2'),
      machine('worker-3'),
      machine('worker-4'),
    ];
    const result = plan(fleet, spec);
    expect(result.currentWave).toBe(1);
    expect(result.cordon).toEqual(['worker-3']);
  });

  it('starts nothing while held at a boundary, not even a machine that joined an earlier wave', () => {
    const spec: RolloutSpec = {
      maxUnavailable: 2,
      waves: [
        { selector: { matchLabels: { canary: 'true' } } },
        { selector: { matchLabels: { zone: 'a' } }, bakeSeconds: 600 },
      ],
    };
    const fleet = [
      doneAtTarget('c1', { labels: { canary: 'true' } }),
      doneAtTarget('a1', { labels: { zone: 'a' }, finishedAt: NOW - 60_000 }),
      machine('c2', { labels: { canary: 'true' } }),
      machine('b1', { labels: { zone: 'b' } }),
    ];
    const result = plan(fleet, spec);
    expect(result.currentWave).toBe(1);
    expect(result.pause?.reason).toBe('Baking');
    expect(result.cordon).toEqual([]);
    expect(result.assign).toEqual([]);
  });

  it('gives back a machine cordoned for a wave that is no longer open', () => {
    const spec: RolloutSpec = { maxUnavailable: 2, waves: [{ count: 1 }] };
    const fleet = [
      machine('worker-1', { desiredRevision: 'r2', currentRevision: 'r1' }),
      machine('worker-2', { cordoned: true, cordonedByRollout: true, drained: true }),
    ];
    const result = plan(fleet, spec);
    expect(result.uncordon).toEqual(['worker-2']);
    expect(result.assign).toEqual([]);
  });

  it('is complete once every machine runs the target and the last wave has baked', () => {
    const spec: RolloutSpec = { waves: [{ percent: 100, bakeSeconds: 900 }] };
    const fleet = [
      doneAtTarget('worker-1', { cordoned: true, cordonedByRollout: true }),
      doneAtTarget('worker-2'),
    ];
    const baking = plan(fleet, spec);
    expect(baking.complete).toBe(false);
    expect(baking.uncordon).toEqual(['worker-1']);
    expect(baking.pause?.reason).toBe('Baking');
    expect(baking.message).toMatch(
      /^NodePool "workers" revision r2 runs on all 2 machines; .* baking waves\[0\]/,
    );

    const done = plan(fleet, spec, { now: NOW + 300_000 });
    expect(done.complete).toBe(true);
    expect(done.pause).toBeUndefined();
    expect(done.message).toBe('NodePool "workers" revision r2 runs on all 2 machines');
  });
});

describe('planRollout: failures and rollback', () => {
  const failed = (name: string, failureMessage?: string): MachineState =>
    machine(name, {
      currentRevision: 'r2',
      desiredRevision: 'r2',
      failedRevision: 'r2',
      failureMessage,
      cordoned: true,
      cordonedByRollout: true,
    });

  it('pauses with a reason a person can act on once more machines failed than maxFailed', () => {
    const fleet = [
      failed('worker-17', 'kubelet: exec check exited 1'),
      failed('worker-22'),
      machine('worker-23', { cordoned: true, cordonedByRollout: true, drained: true }),
      machine('worker-24'),
    ];
    const result = plan(fleet, { maxUnavailable: 4, maxFailed: 1 });
    expect(result.pause).toEqual({
      reason: 'FailureBudgetExceeded',
      message:
        'NodePool "workers" paused: 2 machines failed at revision r2 (maxFailed 1): worker-17 (kubelet: exec check exited 1), worker-22; fix or remove the failed machines, raise maxFailed, or change the pool template',
    });
    expect(result.assign).toEqual([]);
    expect(result.cordon).toEqual([]);
    // worker-23 was cordoned for a start that will not come now: it goes back into service.
    expect(result.uncordon).toEqual(['worker-23']);
    expect(result.counts.failedMachines).toBe(2);
    // Failures the agent reports carry no reason: they are on the Machine already.
    expect(result.failed).toEqual([
      { machine: 'worker-17', revision: 'r2', message: 'kubelet: exec check exited 1' },
      { machine: 'worker-22', revision: 'r2' },
    ]);
  });

  it('keeps going while failures are within maxFailed, and says so', () => {
    const result = plan([failed('worker-1'), machine('worker-2')], { maxUnavailable: 2, maxFailed: 1 });
    expect(result.pause).toBeUndefined();
    expect(result.cordon).toEqual(['worker-2']);
    expect(result.message).toContain(
      '1 machine failed at revision r2 (maxFailed 1): worker-1, within the failure budget',
    );
  });

  it('rolls failed and unfinished machines back to the last good revision, leaving healthy ones at the target', () => {
    const fleet = [
      doneAtTarget('worker-1'),
      failed('worker-2'),
      machine('worker-3', { desiredRevision: 'r2', ready: false, cordoned: true, cordonedByRollout: true }),
      machine('worker-4', { cordoned: true, cordonedByRollout: true, drained: true }),
      machine('worker-5'),
    ];
    const result = plan(fleet, { maxUnavailable: 3, autoRollback: true });
    expect(result.rolledBack).toBe(true);
    expect(result.rollback).toEqual({
      fromRevision: 'r2',
      toRevision: 'r1',
      machines: ['worker-2', 'worker-3'],
    });
    expect(result.assign).toEqual(assigned('r1', ['worker-2', 'worker-3']));
    expect(result.uncordon).toEqual(['worker-4']);
    expect(result.cordon).toEqual([]);
    expect(result.pause?.reason).toBe('RolledBack');
    expect(result.message).toBe(
      'NodePool "workers" revision r2 rolled back: 1 machine failed at revision r2 (maxFailed 0): worker-2; failed and unfinished machines go back to revision r1; change the pool template to roll out a fixed revision',
    );
  });

  it('stays rolled back once the reverted machines heal, and uncordons them', () => {
    const fleet = [
      doneAtTarget('worker-1'),
      machine('worker-2', { cordoned: true, cordonedByRollout: true }),
    ];
    const result = plan(fleet, { autoRollback: true }, { rolledBack: true });
    expect(result.rolledBack).toBe(true);
    expect(result.assign).toEqual([]);
    expect(result.cordon).toEqual([]);
    expect(result.uncordon).toEqual(['worker-2']);
    expect(result.pause?.reason).toBe('RolledBack');
  });

  it('pauses instead when there is no last good revision to roll back to', () => {
    const result = plan([failed('worker-1')], { autoRollback: true }, { lastGoodRevision: undefined });
    expect(result.rolledBack).toBe(false);
    expect(result.pause?.reason).toBe('FailureBudgetExceeded');
    expect(result.pause?.message).toContain(
      'autoRollback is on but there is no earlier good revision to return to',
    );
  });
});

describe('planRollout: paused and invalid pools', () => {
  it('starts nothing and rolls nothing back while paused, but lets finished machines back into service', () => {
    const fleet = [
      doneAtTarget('worker-1', { cordoned: true, cordonedByRollout: true }),
      machine('worker-2', { desiredRevision: 'r2', failedRevision: 'r2', currentRevision: 'r2' }),
      machine('worker-3', { cordoned: true, cordonedByRollout: true, drained: true }),
      machine('worker-4'),
    ];
    const result = plan(fleet, { paused: true, maxUnavailable: 4, autoRollback: true });
    expect(result.assign).toEqual([]);
    expect(result.cordon).toEqual([]);
    expect(result.drain).toEqual([]);
    expect(result.uncordon).toEqual(['worker-1', 'worker-3']);
    expect(result.pause).toEqual({
      reason: 'Paused',
      message:
        'NodePool "workers" paused (spec.paused): at waves[0] (all machines), 2/4 machines updated, 3 unavailable (maxUnavailable 4); set spec.paused to false to continue',
    });
  });

  it('says a pause the caller set after a pauseAfter: true wave awaits a resume past that wave, naming how', () => {
    const spec: RolloutSpec = { paused: true, waves: [{ name: 'canary', count: 1, pauseAfter: true }] };
    const fleet = [doneAtTarget('worker-1'), machine('worker-2'), machine('worker-3')];
    const result = plan(fleet, spec, { pausedAfterWave: 0 });
    expect(result.assign).toEqual([]);
    expect(result.cordon).toEqual([]);
    expect(result.pause).toEqual({
      reason: 'AwaitingResume',
      message:
        'NodePool "workers" paused after "canary" (waves[0]) (pauseAfter: true): at "canary" (waves[0]), 1/3 machines updated, 0 unavailable (maxUnavailable 1); ' +
        'check that wave, then run kubectl kok nodepool resume workers to start waves[1] (remaining machines)',
    });
    expect(result.message).toBe(result.pause?.message);
    // Without the caller's record it is a person's pause.
    expect(plan(fleet, spec).pause?.reason).toBe('Paused');
  });

  it('refuses a spec it cannot act on, naming every problem', () => {
    const result = plan(workers(2), {
      maxUnavailable: '120%',
      maxFailed: -1,
      waves: [
        { count: 1, percent: 10 },
        { pauseAfter: true },
        { selector: { matchExpressions: [{ key: 'zone', operator: 'In' }] }, bakeSeconds: -5 },
      ],
    });
    expect(result.assign).toEqual([]);
    expect(result.cordon).toEqual([]);
    expect(result.pause?.reason).toBe('InvalidSpec');
    expect(result.message).toBe(
      'NodePool "workers" cannot roll out: rollout.strategy.rollingUpdate.maxUnavailable must be at most "100%", got "120%"; ' +
        'rollout.maxFailed must be a whole number (0 or more), got -1; ' +
        'rollout.waves[0]: set exactly one of count, percent or selector (found count and percent); ' +
        'rollout.waves[1]: set exactly one of count, percent or selector (found none); ' +
        'rollout.waves[2].selector.matchExpressions[0]: operator In needs at least one value; ' +
        'rollout.waves[2].bakeSeconds must be 0 or more seconds, got -5',
    );
  });

  it('calls an empty pool complete', () => {
    const result = plan([], { waves: [{ count: 1, pauseAfter: true }] });
    expect(result).toMatchObject({ complete: true, assign: [], cordon: [], counts: { machines: 0 } });
  });

  it('keeps messages short on a large pool', () => {
    const fleet = Array.from({ length: 40 }, (_, i) =>
      machine(`worker-${i + 1}`, { desiredRevision: 'r2', currentRevision: 'r2', failedRevision: 'r2' }),
    );
    const result = plan(fleet, { maxFailed: 10 });
    expect(result.message).toContain('worker-1, worker-2, worker-3, worker-4, worker-5 and 35 more');
  });
});
