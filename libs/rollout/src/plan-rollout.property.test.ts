import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { resolveMaxUnavailable } from './budget.ts';
import type { LabelSelector } from './label-selector.ts';
import type { MachineState } from './machine-state.ts';
import { orderMachines } from './ordering.ts';
import { planRollout } from './plan-rollout.ts';
import type { RolloutSpec, WaveSpec } from './rollout-spec.ts';
import {
  FleetSimulator,
  type HostEvent,
  type SimulatedHost,
  type SimulationStep,
} from './test-support/fleet-simulator.ts';
import { resolveWaves, type Wave } from './waves.ts';

const TARGET = 'r2';

// The design's definitions, written out here on their own so the planner is judged against them, not against itself.
const isUnavailable = (m: MachineState): boolean =>
  !m.ready || m.cordoned || m.failedRevision !== undefined || m.underRemediation === true;
const isDisrupted = (m: MachineState): boolean =>
  isUnavailable(m) || (m.desiredRevision !== undefined && m.desiredRevision !== m.currentRevision);
const isStarted = (m: MachineState): boolean => m.desiredRevision === TARGET || m.cordonedByRollout === true;
const isDone = (m: MachineState): boolean =>
  m.desiredRevision === TARGET &&
  m.currentRevision === TARGET &&
  m.ready &&
  m.failedRevision === undefined &&
  m.underRemediation !== true;

// ---- arbitraries -----------------------------------------------------------

interface HostRecord {
  zone: string | undefined;
  rack: string;
  needsDisruption: boolean;
  bad: boolean;
}

const hostArbitrary: fc.Arbitrary<HostRecord> = fc.record({
  zone: fc.option(fc.constantFrom('a', 'b', 'c'), { nil: undefined }),
  rack: fc.constantFrom('1', '2', '10'),
  needsDisruption: fc.boolean(),
  /** One host in ten cannot run the target. */
  bad: fc.integer({ min: 0, max: 9 }).map((roll) => roll === 0),
});

function hostsFrom(records: readonly HostRecord[], withFailures: boolean): SimulatedHost[] {
  return records.map((record, index) => ({
    name: `worker-${index + 1}`,
    labels: { ...(record.zone ? { zone: record.zone } : {}), rack: record.rack },
    needsDisruption: record.needsDisruption,
    failsAt: withFailures && record.bad ? [TARGET] : [],
  }));
}

const waveArbitrary: fc.Arbitrary<WaveSpec> = fc
  .tuple(
    fc.oneof(
      fc.record({ count: fc.integer({ min: 0, max: 12 }) }),
      fc.record({ percent: fc.integer({ min: 0, max: 100 }) }),
      fc.record({
        selector: fc.constantFrom<LabelSelector>(
          { matchLabels: { zone: 'a' } },
          { matchExpressions: [{ key: 'zone', operator: 'In', values: ['b', 'c'] }] },
          { matchLabels: { rack: '10' } },
        ),
      }),
    ),
    fc.record(
      {
        pauseAfter: fc.oneof(fc.boolean(), fc.integer({ min: 0, max: 300 })),
        bakeSeconds: fc.integer({ min: 0, max: 600 }),
      },
      { requiredKeys: [] },
    ),
  )
  .map(([size, holds]) => ({ ...size, ...holds }));

const specArbitrary = (options: { allowZeroBudget: boolean }): fc.Arbitrary<RolloutSpec> =>
  fc.record({
    maxUnavailable: fc.oneof(
      fc.integer({ min: options.allowZeroBudget ? 0 : 1, max: 4 }),
      fc.integer({ min: options.allowZeroBudget ? 0 : 1, max: 60 }).map((percent) => `${percent}%`),
    ),
    waves: fc.option(fc.array(waveArbitrary, { maxLength: 4 }), { nil: undefined }),
    maxFailed: fc.integer({ min: 0, max: 2 }),
    autoRollback: fc.boolean(),
    order: fc.constantFrom([], ['zone'], ['zone', 'rack']),
  });

const hostEventArbitrary: fc.Arbitrary<HostEvent> = fc.record({
  kind: fc.constantFrom('nodeNotReady', 'remediation', 'manualCordon'),
  host: fc.nat(),
  steps: fc.integer({ min: 1, max: 6 }),
});

/** What happens before each step: things happening to hosts, and whether a person has paused the pool. */
const turbulenceArbitrary = fc.array(
  fc.record({ events: fc.array(hostEventArbitrary, { maxLength: 2 }), paused: fc.boolean() }),
  { maxLength: 60 },
);
type Turbulence = { events: HostEvent[]; paused: boolean }[];

const scenario = (options: { withFailures: boolean; allowZeroBudget: boolean; pauses: boolean }) =>
  fc.record({
    hosts: fc
      .array(hostArbitrary, { minLength: 1, maxLength: 24 })
      .map((records) => hostsFrom(records, options.withFailures)),
    spec: specArbitrary(options),
    turbulence: turbulenceArbitrary.map((steps) =>
      options.pauses ? steps : steps.map((step) => ({ ...step, paused: false })),
    ),
  });

// ---- driving the planner ----------------------------------------------------

interface Run {
  simulator: FleetSimulator;
  waves: Wave[];
  steps: SimulationStep[];
}

/**
 * Steps the simulated fleet until the rollout completes or `maxSteps`. A person
 * resumes a `pauseAfter: true` hold one step after seeing it, and pauses the
 * pool while the turbulence says so.
 */
function run(
  hosts: SimulatedHost[],
  spec: RolloutSpec,
  turbulence: Turbulence,
  maxSteps: number,
  check: (step: SimulationStep, run: Run) => void,
): Run {
  const simulator = new FleetSimulator({ spec, hosts, targetRevision: TARGET });
  const waves = resolveWaves(orderMachines(simulator.machines(), spec.order ?? []), spec.waves);
  const result: Run = { simulator, waves, steps: [] };
  for (let i = 0; i < maxSteps; i++) {
    const now = turbulence[i];
    simulator.spec = { ...spec, paused: now?.paused ?? false };
    const step = simulator.step(now?.events ?? []);
    result.steps.push(step);
    check(step, result);
    if (step.plan.pause?.reason === 'AwaitingResume') simulator.resumedAfterWave = step.plan.currentWave;
    if (step.plan.complete && i >= turbulence.length) break;
  }
  return result;
}

function waveIndexOf(waves: readonly Wave[]): Map<string, number> {
  return new Map(waves.flatMap((wave) => wave.members.map((m) => [m.name, wave.index] as const)));
}

const byName = (machines: readonly MachineState[]): Map<string, MachineState> =>
  new Map(machines.map((m) => [m.name, m]));

function newlyStarted({ before, applied }: SimulationStep): MachineState[] {
  const previous = byName(before.machines);
  return applied.filter((m) => isStarted(m) && !isStarted(previous.get(m.name) as MachineState));
}

// ---- the promises -------------------------------------------------------------

describe('rollout planner over simulated fleets', () => {
  it('never disrupts more machines than maxUnavailable, counting machines already down or under remediation', () => {
    fc.assert(
      fc.property(
        scenario({ withFailures: true, allowZeroBudget: true, pauses: true }),
        ({ hosts, spec, turbulence }) => {
          run(hosts, spec, turbulence, 150, (step) => {
            const previous = byName(step.before.machines);
            const disruptedNow = step.applied.filter(isDisrupted);
            const newlyDisrupted = disruptedNow.filter(
              (m) => !isDisrupted(previous.get(m.name) as MachineState),
            );
            const limit = resolveMaxUnavailable(spec.maxUnavailable, hosts.length);
            if (newlyDisrupted.length > 0) expect(disruptedNow.length).toBeLessThanOrEqual(limit);
          });
        },
      ),
    );
  });

  it('never lets a wave be overtaken by the next, and opens a wave only once the earlier ones are complete', () => {
    fc.assert(
      fc.property(
        scenario({ withFailures: true, allowZeroBudget: false, pauses: true }),
        ({ hosts, spec, turbulence }) => {
          run(hosts, spec, turbulence, 300, (step, { waves }) => {
            const waveOf = waveIndexOf(waves);
            const startedBefore = step.before.machines.filter(isStarted);
            for (const machine of newlyStarted(step)) {
              const wave = waveOf.get(machine.name) as number;
              const earlier = step.before.machines.filter((m) => (waveOf.get(m.name) as number) < wave);
              expect(earlier.filter((m) => m.desiredRevision !== TARGET).map((m) => m.name)).toEqual([]);
              const opensWave = !startedBefore.some((m) => waveOf.get(m.name) === wave);
              if (opensWave) {
                const incomplete = earlier.filter((m) => !isDone(m) && m.failedRevision !== TARGET);
                expect(incomplete.map((m) => m.name)).toEqual([]);
              }
            }
          });
        },
      ),
    );
  });

  it('respects bakes and pauseAfter at each wave boundary', () => {
    fc.assert(
      fc.property(
        scenario({ withFailures: true, allowZeroBudget: false, pauses: false }),
        ({ hosts, spec, turbulence }) => {
          run(hosts, spec, turbulence, 300, (step, { waves }) => {
            const waveOf = waveIndexOf(waves);
            const startedBefore = step.before.machines.filter(isStarted);
            for (const machine of newlyStarted(step)) {
              const wave = waveOf.get(machine.name) as number;
              if (startedBefore.some((m) => waveOf.get(m.name) === wave)) continue;
              const previous = waves.slice(0, wave).findLast((w) => w.members.length > 0);
              if (!previous) continue;
              const members = step.before.machines.filter((m) => waveOf.get(m.name) === previous.index);
              const finishTimes = members.flatMap((m) => (m.finishedAt === undefined ? [] : [m.finishedAt]));
              const finishedAt = finishTimes.length > 0 ? Math.max(...finishTimes) : undefined;
              const bakeEnd =
                finishedAt === undefined ? -Infinity : finishedAt + (previous.spec.bakeSeconds ?? 0) * 1000;
              expect(step.before.now).toBeGreaterThanOrEqual(bakeEnd);
              const resumed = (step.before.resumedAfterWave ?? -1) >= previous.index;
              const pauseAfter = previous.spec.pauseAfter;
              if (pauseAfter === true) expect(resumed).toBe(true);
              if (typeof pauseAfter === 'number' && !resumed) {
                expect(step.before.now).toBeGreaterThanOrEqual(bakeEnd + pauseAfter * 1000);
              }
            }
          });
        },
      ),
    );
  });

  it('starts nothing while paused or held, and rolls nothing back while paused', () => {
    fc.assert(
      fc.property(
        scenario({ withFailures: true, allowZeroBudget: false, pauses: true }),
        ({ hosts, spec, turbulence }) => {
          run(hosts, spec, turbulence, 150, (step) => {
            const { plan, before } = step;
            if (before.spec.paused) expect(plan.pause?.reason).toBe('Paused');
            if (!plan.pause) return;
            expect(plan.cordon).toEqual([]);
            expect(newlyStarted(step).map((m) => m.name)).toEqual([]);
            if (before.spec.paused) expect(plan.assign).toEqual([]);
          });
        },
      ),
    );
  });

  it('says why each machine waits that neither runs the target nor is on its way, and never of one it starts', () => {
    fc.assert(
      fc.property(
        scenario({ withFailures: true, allowZeroBudget: true, pauses: true }),
        ({ hosts, spec, turbulence }) => {
          run(hosts, spec, turbulence, 150, ({ before, plan }) => {
            const waiting = plan.waiting.map((wait) => wait.machine);
            const starting = [
              ...plan.cordon,
              ...plan.assign.filter((a) => a.revision === TARGET).map((a) => a.machine),
            ];
            const onItsWay = new Set([...starting, ...plan.drain]);
            const unexplained = before.machines.filter(
              (m) =>
                !isDone(m) &&
                m.desiredRevision !== TARGET &&
                !onItsWay.has(m.name) &&
                !waiting.includes(m.name),
            );
            expect(unexplained.map((m) => m.name)).toEqual([]);
            expect(starting.filter((name) => waiting.includes(name))).toEqual([]);
            expect(new Set(waiting).size).toBe(waiting.length);
          });
        },
      ),
    );
  });

  it('stops the pool with a reason once more machines failed than maxFailed', () => {
    fc.assert(
      fc.property(
        scenario({ withFailures: true, allowZeroBudget: false, pauses: false }),
        ({ hosts, spec, turbulence }) => {
          run(hosts, spec, turbulence, 200, ({ before, plan }) => {
            const failed = before.machines.filter((m) => m.failedRevision === TARGET);
            if (failed.length <= (spec.maxFailed ?? 0)) return;
            expect(['FailureBudgetExceeded', 'RolledBack']).toContain(plan.pause?.reason);
            expect(plan.assign.filter((a) => a.revision === TARGET)).toEqual([]);
            if (plan.pause?.reason === 'FailureBudgetExceeded') {
              expect(plan.pause.message).toContain(`(maxFailed ${spec.maxFailed ?? 0})`);
              expect(plan.pause.message).toContain(orderMachines(failed, spec.order ?? [])[0]?.name);
            }
          });
        },
      ),
    );
  });

  it('rolls back only failed and unfinished machines, within the budget, and never resumes the failed revision', () => {
    fc.assert(
      fc.property(
        scenario({ withFailures: true, allowZeroBudget: false, pauses: false }),
        ({ hosts, spec, turbulence }) => {
          const autoRollback = { ...spec, autoRollback: true };
          let rolledBackAt: number | undefined;
          const { simulator } = run(
            hosts,
            autoRollback,
            turbulence,
            200,
            ({ before, plan, applied }, { steps }) => {
              if (before.rolledBack) {
                expect(plan.assign.filter((a) => a.revision === TARGET)).toEqual([]);
              }
              if (plan.rolledBack) {
                // A rollback stays within the budget: it only touches machines that already hold a place.
                const previous = byName(before.machines);
                const newlyDisrupted = applied.filter(
                  (m) => isDisrupted(m) && !isDisrupted(previous.get(m.name) as MachineState),
                );
                expect(newlyDisrupted.map((m) => m.name)).toEqual([]);
              }
              if (plan.rollback) {
                rolledBackAt ??= steps.length;
                const previous = byName(before.machines);
                for (const name of plan.rollback.machines) {
                  const machine = previous.get(name) as MachineState;
                  expect(machine.desiredRevision).toBe(TARGET);
                  expect(isDone(machine)).toBe(false);
                }
                expect(plan.assign.every((a) => a.revision === 'r1')).toBe(true);
              }
            },
          );
          if (rolledBackAt !== undefined) {
            // Given time and no turbulence, every reverted machine is back and in service.
            for (let i = 0; i < 20; i++) simulator.step();
            for (const machine of simulator.machines()) {
              expect(
                isDone(machine) || (machine.desiredRevision === 'r1' && machine.currentRevision === 'r1'),
              ).toBe(true);
              expect(machine.cordonedByRollout ?? false).toBe(false);
            }
          }
        },
      ),
    );
  });

  it('only moves forward: machines handed the target keep it, updated counts and the current wave never go down', () => {
    fc.assert(
      fc.property(
        scenario({ withFailures: false, allowZeroBudget: false, pauses: true }),
        ({ hosts, spec, turbulence }) => {
          let previousUpdated = 0;
          let previousWave = 0;
          run(hosts, spec, turbulence, 300, ({ before, applied, plan }, { waves }) => {
            const waveOf = waveIndexOf(waves);
            const after = byName(applied);
            for (const m of before.machines) {
              if (m.desiredRevision === TARGET) expect(after.get(m.name)?.desiredRevision).toBe(TARGET);
            }
            expect(plan.counts.updatedMachines).toBeGreaterThanOrEqual(previousUpdated);
            previousUpdated = plan.counts.updatedMachines;
            const furthest = Math.max(
              0,
              ...applied.filter((m) => m.desiredRevision === TARGET).map((m) => waveOf.get(m.name) as number),
            );
            expect(furthest).toBeGreaterThanOrEqual(previousWave);
            previousWave = furthest;
          });
        },
      ),
    );
  });

  it('plans the same whatever order the machines are listed in, never names a machine twice, and assigns only changes', () => {
    fc.assert(
      fc.property(
        scenario({ withFailures: true, allowZeroBudget: true, pauses: true }),
        fc.nat(),
        ({ hosts, spec, turbulence }, rotation) => {
          run(hosts, spec, turbulence, 80, ({ before, plan }) => {
            const shift = rotation % before.machines.length;
            const rotated = [...before.machines.slice(shift), ...before.machines.slice(0, shift)].reverse();
            expect(planRollout({ ...before, machines: rotated })).toEqual(plan);
            for (const names of [plan.cordon, plan.drain, plan.uncordon, plan.assign.map((a) => a.machine)]) {
              expect(new Set(names).size).toBe(names.length);
            }
            const uncordoned = new Set(plan.uncordon);
            expect(plan.cordon.filter((name) => uncordoned.has(name))).toEqual([]);
            // Each assignment is a write to a Machine: only ones that change what the machine was told.
            const told = new Map(before.machines.map((m) => [m.name, m.desiredRevision]));
            expect(plan.assign.filter((a) => told.get(a.machine) === a.revision)).toEqual([]);
          });
        },
      ),
    );
  });

  it('brings every machine to the target and back into service when nothing fails', () => {
    fc.assert(
      fc.property(
        scenario({ withFailures: false, allowZeroBudget: false, pauses: true }),
        ({ hosts, spec, turbulence }) => {
          const { simulator, steps } = run(hosts, spec, turbulence, 2000, () => undefined);
          expect(steps.at(-1)?.plan.complete).toBe(true);
          // Let the last uncordons land and the last hand-made troubles pass.
          for (let i = 0; i < 10; i++) simulator.step();
          for (const machine of simulator.machines()) {
            expect(machine).toMatchObject({
              desiredRevision: TARGET,
              currentRevision: TARGET,
              cordoned: false,
            });
          }
          expect(simulator.lastGoodRevision).toBe(TARGET);
        },
      ),
    );
  });
});
