import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { MachineState } from './machine-state.ts';
import { orderMachines } from './ordering.ts';
import type { RolloutSpec, WaveSpec } from './rollout-spec.ts';
import { simulateRollout, type MachineDurations, type RolloutSimulation } from './simulate-rollout.ts';
import { machine, NOW, workers } from './test-support/machines.ts';
import { resolveWaves } from './waves.ts';

const minute = (): MachineDurations => ({ upgradeSeconds: 60, drainSeconds: 0 });

function simulate(
  machines: MachineState[],
  spec: RolloutSpec,
  durations: (m: MachineState) => MachineDurations = minute,
): RolloutSimulation {
  return simulateRollout({
    pool: 'workers',
    spec,
    targetRevision: 'r2',
    lastGoodRevision: 'r1',
    machines,
    start: NOW,
    durations,
  });
}

/** Each step as `<seconds>s: <what>`, so a table reads like a timeline. */
function timeline(simulation: RolloutSimulation): string[] {
  return simulation.steps.map((step) =>
    [
      `${step.atSeconds}s`,
      ...(step.uncordon.length ? [`uncordon ${step.uncordon.join(',')}`] : []),
      ...(step.cordon.length ? [`cordon ${step.cordon.join(',')}`] : []),
      ...(step.assign.length ? [`assign ${step.assign.join(',')}`] : []),
      `${step.inUse}/${step.maxUnavailable}`,
      ...(step.pause ? [step.pause.reason] : []),
    ].join(' '),
  );
}

describe('simulateRollout', () => {
  const noDrain = { needsDisruption: false };
  it.each<{ name: string; machines: MachineState[]; spec: RolloutSpec; steps: string[]; seconds: number }>([
    {
      name: 'a sliding window of maxUnavailable 2 over 5 machines',
      machines: workers(5, noDrain),
      spec: { maxUnavailable: 2 },
      steps: [
        '0s assign worker-1,worker-2 2/2',
        '60s assign worker-3,worker-4 2/2',
        '120s assign worker-5 1/2',
      ],
      seconds: 180,
    },
    {
      name: 'a canary that bakes before the rest start',
      machines: workers(4, noDrain),
      spec: { maxUnavailable: 3, waves: [{ name: 'canary', count: 1, bakeSeconds: 300 }] },
      steps: ['0s assign worker-1 1/3', '60s 0/3 Baking', '360s assign worker-2,worker-3,worker-4 3/3'],
      seconds: 420,
    },
    {
      name: 'a drain before each machine is told, and its cordon lifted once healthy',
      machines: workers(2),
      spec: { maxUnavailable: 1 },
      steps: [
        '0s cordon worker-1 1/1',
        '30s assign worker-1 1/1',
        // Its cordon holds the place until lifted; the next plan starts worker-2.
        '90s uncordon worker-1 0/1',
        '90s cordon worker-2 1/1',
        '120s assign worker-2 1/1',
        '180s uncordon worker-2 0/1',
      ],
      seconds: 180,
    },
    {
      name: 'a timed pauseAfter that holds after the bake, then lets the next wave start',
      machines: workers(2, noDrain),
      spec: { waves: [{ count: 1, bakeSeconds: 10, pauseAfter: 50 }] },
      steps: ['0s assign worker-1 1/1', '60s 0/1 Baking', '70s 0/1 PauseAfter', '120s assign worker-2 1/1'],
      seconds: 180,
    },
  ])('$name', ({ machines, spec, steps, seconds }) => {
    const simulation = simulate(machines, spec, () => ({ upgradeSeconds: 60, drainSeconds: 30 }));
    expect(timeline(simulation)).toEqual(steps);
    expect(simulation.outcome).toBe('Complete');
    expect(simulation.durationSeconds).toBe(seconds);
  });

  it('stops at a pauseAfter: true wave and says so, having told only that wave', () => {
    const simulation = simulate(workers(6, { needsDisruption: false }), {
      maxUnavailable: 2,
      waves: [{ name: 'canary', count: 2, pauseAfter: true }],
    });
    expect(simulation.outcome).toBe('Stopped');
    expect(simulation.stoppedBy?.reason).toBe('AwaitingResume');
    expect(simulation.assignmentOrder).toEqual(['worker-1', 'worker-2']);
    expect(simulation.durationSeconds).toBe(60);
    expect(simulation.waves.map((wave) => [wave.label, wave.finishesAtSeconds])).toEqual([
      ['"canary" (waves[0])', 60],
      ['waves[1] (remaining machines)', undefined],
    ]);
  });

  it('stops at once on a paused pool', () => {
    const simulation = simulate(workers(3), { paused: true });
    expect(simulation).toMatchObject({ outcome: 'Stopped', durationSeconds: 0, assignmentOrder: [] });
    expect(simulation.stoppedBy?.reason).toBe('Paused');
  });

  it('stalls when a machine that stays NotReady holds the only place in the budget', () => {
    const simulation = simulate([machine('worker-1', { ready: false }), ...workers(2).slice(1)], {});
    expect(simulation.outcome).toBe('Stalled');
    // Already unavailable, it holds the budget's one place, so it is told the target; it never becomes Ready.
    expect(simulation.assignmentOrder).toEqual(['worker-1']);
    expect(simulation.stoppedBy?.message).toContain('waiting for room in maxUnavailable 1');
  });

  it('finishes an upgrade under way after what is left of its duration', () => {
    const started = machine('worker-1', {
      desiredRevision: 'r2',
      startedAt: NOW - 45_000,
      needsDisruption: false,
    });
    const simulation = simulate([started, machine('worker-2', { needsDisruption: false })], {});
    expect(timeline(simulation)).toEqual(['15s assign worker-2 1/1']);
    expect(simulation.durationSeconds).toBe(75);
  });

  it('counts a machine slower than the progress deadline failed, as the planner would', () => {
    const simulation = simulate(workers(2, { needsDisruption: false }), { progressDeadlineSeconds: 30 });
    expect(simulation.outcome).toBe('Stopped');
    expect(simulation.stoppedBy?.reason).toBe('FailureBudgetExceeded');
  });

  it('never has more machines in the budget than maxUnavailable, and tells machines wave by wave in rollout order', () => {
    const waveArbitrary: fc.Arbitrary<WaveSpec> = fc
      .tuple(
        fc.oneof(
          fc.record({ count: fc.integer({ min: 1, max: 12 }) }),
          fc.record({ percent: fc.integer({ min: 1, max: 100 }) }),
          fc.record({ selector: fc.constant({ matchLabels: { zone: 'a' } }) }),
        ),
        fc.record({ bakeSeconds: fc.integer({ min: 0, max: 600 }) }, { requiredKeys: [] }),
      )
      .map(([size, bake]) => ({ ...size, ...bake }));
    const scenario = fc.record({
      hosts: fc.array(
        fc.record({
          zone: fc.constantFrom('a', 'b'),
          needsDisruption: fc.boolean(),
          upgradeSeconds: fc.integer({ min: 1, max: 900 }),
          drainSeconds: fc.integer({ min: 0, max: 120 }),
        }),
        { minLength: 1, maxLength: 20 },
      ),
      maxUnavailable: fc.oneof(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 50 }).map((p) => `${p}%`),
      ),
      waves: fc.array(waveArbitrary, { maxLength: 3 }),
      order: fc.constantFrom([], ['zone']),
    });
    fc.assert(
      fc.property(scenario, ({ hosts, maxUnavailable, waves, order }) => {
        const machines = hosts.map((host, index) =>
          machine(`worker-${index + 1}`, {
            labels: { zone: host.zone },
            needsDisruption: host.needsDisruption,
          }),
        );
        const byName = new Map(hosts.map((host, index) => [`worker-${index + 1}`, host]));
        const spec: RolloutSpec = { maxUnavailable, waves, order };
        const simulation = simulate(machines, spec, (m) => byName.get(m.name) as MachineDurations);

        expect(simulation.outcome).toBe('Complete');
        for (const step of simulation.steps) expect(step.inUse).toBeLessThanOrEqual(step.maxUnavailable);
        // Wave membership is the planner's own, and machines are told in rollout order, wave after wave.
        const planned = resolveWaves(orderMachines(machines, order), waves);
        expect(simulation.waves.map((wave) => wave.members)).toEqual(
          planned.map((wave) => wave.members.map((m) => m.name)),
        );
        expect(simulation.startOrder).toEqual(simulation.waves.flatMap((wave) => wave.members));
        expect(new Set(simulation.assignmentOrder)).toEqual(new Set(simulation.startOrder));
        // No machine of a wave starts before the wave before it has finished and baked.
        const withMembers = simulation.waves.filter((wave) => wave.members.length > 0);
        for (const [index, wave] of withMembers.entries()) {
          const before = withMembers[index - 1];
          if (before)
            expect(wave.startsAtSeconds).toBeGreaterThanOrEqual(
              (before.finishesAtSeconds as number) + before.bakeSeconds,
            );
        }
        const last = withMembers.at(-1);
        expect(simulation.durationSeconds).toBe(
          last ? (last.finishesAtSeconds as number) + last.bakeSeconds : 0,
        );
      }),
      { numRuns: 200 },
    );
  });
});
