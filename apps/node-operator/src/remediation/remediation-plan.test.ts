import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseGoDuration } from '../shared/go-duration.ts';
import { planRemediation, resolveMaxUnhealthy } from './remediation-plan.ts';
import type { RemediationCandidate, RemediationInput, RemediationRecord } from './remediation-plan.ts';

const MIN = 60_000;
const NOW = 100 * MIN;

const spec: RemediationInput['spec'] = {
  unhealthyConditions: [
    { type: 'KernelDeadlock', status: 'True', duration: '5m' },
    { type: 'Ready', status: 'False', duration: '2m' },
  ],
  maxUnhealthy: 2,
  actions: [
    { type: 'RestartComponent', component: 'kubelet', timeout: '1m' },
    { type: 'Reboot', timeout: '10m' },
    { type: 'Cordon', timeout: '1m' },
  ],
};

function machine(name: string, extra: Partial<RemediationCandidate> = {}): RemediationCandidate {
  return { name, pool: 'p', conditions: [], remediating: false, occupiesBudget: false, ...extra };
}
const deadlockedSince = (minutesAgo: number) => [
  { type: 'KernelDeadlock', status: 'True', since: NOW - minutesAgo * MIN },
];
const record = (step: number, minutesAgo: number, state: RemediationRecord['state'] = 'InProgress') =>
  ({
    policy: 'rp',
    step,
    action: spec.actions[step]?.type ?? 'Cordon',
    startedAt: NOW - minutesAgo * MIN,
    state,
  }) satisfies RemediationRecord;

function input(machines: RemediationCandidate[], extra: Partial<RemediationInput> = {}): RemediationInput {
  return {
    policy: 'rp',
    spec,
    machines,
    budgets: new Map([['p', { limit: 1, used: machines.filter((m) => m.occupiesBudget).length }]]),
    stormWasActive: false,
    cooldownMs: 5 * MIN,
    now: NOW,
    ...extra,
  };
}

describe('resolveMaxUnhealthy', () => {
  it.each([
    [undefined, 10, 4],
    ['40%', 7, 2],
    [3, 100, 3],
    ['0%', 5, 0],
    ['100%', 5, 5],
  ] as const)('%j of %d machines is %d', (value, expected, result) =>
    expect(resolveMaxUnhealthy(value, expected)).toBe(result),
  );
});

describe('planRemediation', () => {
  it('waits until a condition has held for its duration, and wakes up then', () => {
    const plan = planRemediation(input([machine('a', { conditions: deadlockedSince(3) })]));
    expect(plan.act).toEqual([]);
    expect(plan.wakeAt).toBe(NOW + 2 * MIN);
    expect(plan.counts.currentHealthy).toBe(0);
  });

  it('starts the first action once the condition has lasted', () => {
    const plan = planRemediation(input([machine('a', { conditions: deadlockedSince(6) })]));
    expect(plan.act).toEqual([
      { machine: 'a', step: 0, action: spec.actions[0], reason: 'KernelDeadlock is True for 5m or more' },
    ]);
  });

  it('escalates only after the previous action timed out, in ladder order', () => {
    const waiting = planRemediation(
      input([
        machine('a', {
          conditions: deadlockedSince(20),
          record: record(1, 5),
          remediating: true,
          occupiesBudget: true,
        }),
      ]),
    );
    expect(waiting.act).toEqual([]);
    expect(waiting.wakeAt).toBe(NOW + 5 * MIN);
    const next = planRemediation(
      input([
        machine('a', {
          conditions: deadlockedSince(20),
          record: record(1, 11),
          remediating: true,
          occupiesBudget: true,
        }),
      ]),
    );
    expect(next.act.map((a) => [a.step, a.action.type])).toEqual([[2, 'Cordon']]);
    expect(next.act[0]?.reason).toMatch(/^Reboot did not make it healthy within 10m/);
  });

  it('marks a machine exhausted when the last action timed out', () => {
    const plan = planRemediation(
      input([
        machine('a', {
          conditions: deadlockedSince(30),
          record: record(2, 2),
          remediating: true,
          occupiesBudget: true,
        }),
      ]),
    );
    expect(plan.act).toEqual([]);
    expect(plan.exhaust.map((e) => e.machine)).toEqual(['a']);
    const after = planRemediation(
      input([
        machine('a', {
          conditions: deadlockedSince(30),
          record: record(2, 2, 'Exhausted'),
          remediating: true,
          occupiesBudget: true,
        }),
      ]),
    );
    expect(after.exhaust).toEqual([]);
    expect(after.counts.inFlightRemediations).toBe(1);
  });

  it('finishes a remediation once no unhealthy condition holds', () => {
    const plan = planRemediation(
      input([machine('a', { record: record(0, 0.5), remediating: true, occupiesBudget: true })]),
    );
    expect(plan.finish).toEqual(['a']);
    expect(plan.act).toEqual([]);
  });

  it('does not finish while a condition still holds, even before its duration', () => {
    const plan = planRemediation(
      input([
        machine('a', {
          conditions: deadlockedSince(1),
          record: record(0, 0.5),
          remediating: true,
          occupiesBudget: true,
        }),
      ]),
    );
    expect(plan.finish).toEqual([]);
  });

  it('takes a budget place only for machines that do not hold one', () => {
    const plan = planRemediation(
      input(
        [
          machine('a', { conditions: deadlockedSince(9) }),
          machine('b', { conditions: deadlockedSince(8) }),
          machine('notready', {
            conditions: [{ type: 'Ready', status: 'False', since: NOW - 3 * MIN }],
            occupiesBudget: true,
          }),
        ],
        { budgets: new Map([['p', { limit: 2, used: 1 }]]), spec: { ...spec, maxUnhealthy: 5 } },
      ),
    );
    expect(plan.act.map((a) => a.machine).sort()).toEqual(['a', 'notready']);
    expect(plan.waitingForBudget).toEqual(['b']);
  });

  it('stops everything, escalations too, while more machines are unhealthy than maxUnhealthy', () => {
    const plan = planRemediation(
      input([
        machine('a', {
          conditions: deadlockedSince(30),
          record: record(0, 10),
          remediating: true,
          occupiesBudget: true,
        }),
        machine('b', { conditions: deadlockedSince(6) }),
        machine('c', { conditions: deadlockedSince(6) }),
      ]),
    );
    expect(plan.storm.active).toBe(true);
    expect(plan.storm.message).toMatch(/3 of 3 machines are unhealthy, more than maxUnhealthy 2/);
    expect(plan.act).toEqual([]);
    expect(plan.counts.remediationsAllowed).toBe(0);
  });

  it('keeps remediation stopped for the cooldown after a storm', () => {
    const sick = [machine('a', { conditions: deadlockedSince(30) })];
    const ending = planRemediation(input(sick, { stormWasActive: true }));
    expect(ending.storm).toMatchObject({ active: false, coolingDown: true });
    expect(ending.act).toEqual([]);
    expect(ending.wakeAt).toBe(NOW + 5 * MIN);
    const cooling = planRemediation(input(sick, { stormEndedAt: NOW - 4 * MIN }));
    expect(cooling.act).toEqual([]);
    const over = planRemediation(input(sick, { stormEndedAt: NOW - 6 * MIN }));
    expect(over.act.map((a) => a.machine)).toEqual(['a']);
  });

  it('leaves a machine that another policy remediates alone', () => {
    const plan = planRemediation(
      input([
        machine('a', {
          conditions: deadlockedSince(30),
          record: { ...record(0, 30), policy: 'other' },
          remediating: true,
        }),
      ]),
    );
    expect(plan.act).toEqual([]);
    expect(plan.finish).toEqual([]);
  });

  it('remediates a machine a person asked for, whatever its conditions', () => {
    const plan = planRemediation(input([machine('a', { requested: true })]));
    expect(plan.act.map((a) => a.action.type)).toEqual(['RestartComponent']);
  });
});

// Properties over random fleets: budgets, ladders and storms.
const arbitraryMachine = fc.record({
  pool: fc.constantFrom('p', 'q'),
  deadlockMinutesAgo: fc.option(fc.integer({ min: 0, max: 60 }), { nil: undefined }),
  occupies: fc.boolean(),
  record: fc.option(
    fc.record({
      step: fc.integer({ min: 0, max: 2 }),
      minutesAgo: fc.integer({ min: 0, max: 30 }),
      state: fc.constantFrom('InProgress', 'Exhausted', 'Succeeded') as fc.Arbitrary<
        RemediationRecord['state']
      >,
    }),
    { nil: undefined },
  ),
});
const arbitraryInput = fc
  .record({
    machines: fc.array(arbitraryMachine, { maxLength: 20 }),
    limitP: fc.integer({ min: 0, max: 4 }),
    limitQ: fc.integer({ min: 0, max: 4 }),
    maxUnhealthy: fc.oneof(fc.integer({ min: 0, max: 20 }), fc.constantFrom('0%', '40%', '100%')),
    stormWasActive: fc.boolean(),
    stormEndedMinutesAgo: fc.option(fc.integer({ min: 0, max: 20 }), { nil: undefined }),
  })
  .map((r): RemediationInput => {
    const machines = r.machines.map((m, i) => {
      const active = m.record && m.record.state !== 'Succeeded';
      return machine(`m${i}`, {
        pool: m.pool,
        conditions: m.deadlockMinutesAgo === undefined ? [] : deadlockedSince(m.deadlockMinutesAgo),
        ...(m.record ? { record: record(m.record.step, m.record.minutesAgo, m.record.state) } : {}),
        remediating: active === true,
        occupiesBudget: m.occupies || active === true,
      });
    });
    const used = (pool: string) => machines.filter((m) => m.pool === pool && m.occupiesBudget).length;
    return input(machines, {
      spec: { ...spec, maxUnhealthy: r.maxUnhealthy },
      budgets: new Map([
        ['p', { limit: r.limitP, used: used('p') }],
        ['q', { limit: r.limitQ, used: used('q') }],
      ]),
      stormWasActive: r.stormWasActive,
      ...(r.stormEndedMinutesAgo === undefined ? {} : { stormEndedAt: NOW - r.stormEndedMinutesAgo * MIN }),
    });
  });

describe('the conditions and status the plan writes', () => {
  const sick = (n: number) =>
    Array.from({ length: n }, (_, i) => machine(`sick-${i}`, { conditions: deadlockedSince(30) }));
  const well = (n: number) => Array.from({ length: n }, (_, i) => machine(`well-${i}`));
  // maxUnhealthy 2 of the spec; a storm's cooldown is 5 minutes.
  it.each([
    {
      when: 'no storm was ever recorded',
      machines: [...sick(1), ...well(2)],
      memory: {},
      storm: ['False', 'NoStorm'],
      allowed: ['True', 'WithinLimits'],
      remediationsAllowed: 1,
    },
    {
      when: 'none is recorded and none starts',
      machines: well(3),
      memory: { stormReason: 'NoStorm' },
      storm: ['False', 'NoStorm'],
      allowed: ['True', 'WithinLimits'],
      remediationsAllowed: 2,
    },
    {
      when: 'more machines are unhealthy than maxUnhealthy',
      machines: sick(3),
      memory: {},
      storm: ['True', 'TooManyUnhealthy'],
      allowed: ['False', 'StormActive'],
      remediationsAllowed: 0,
    },
    {
      when: 'the storm ends in this pass',
      machines: [...sick(1), ...well(2)],
      memory: { stormWasActive: true, stormReason: 'TooManyUnhealthy' },
      storm: ['False', 'CoolingDown'],
      allowed: ['False', 'CoolingDown'],
      remediationsAllowed: 0,
    },
    {
      when: 'the cooldown is still running',
      machines: well(3),
      memory: { stormEndedAt: NOW - 4 * MIN, stormReason: 'CoolingDown' },
      storm: ['False', 'CoolingDown'],
      allowed: ['False', 'CoolingDown'],
      remediationsAllowed: 0,
    },
    {
      when: 'the cooldown is over',
      machines: well(3),
      memory: { stormEndedAt: NOW - 6 * MIN, stormReason: 'CoolingDown' },
      storm: ['False', 'StormEnded'],
      allowed: ['True', 'WithinLimits'],
      remediationsAllowed: 2,
    },
    {
      when: 'a storm ended long ago',
      machines: [...sick(1), ...well(2)],
      memory: { stormEndedAt: NOW - 60 * MIN, stormReason: 'StormEnded' },
      storm: ['False', 'StormEnded'],
      allowed: ['True', 'WithinLimits'],
      remediationsAllowed: 1,
    },
  ] as const)('$when: StormActive $storm, RemediationAllowed $allowed', (row) => {
    const plan = planRemediation(input([...row.machines], row.memory));
    const [stormStatus, stormReason] = row.storm;
    const [allowedStatus, allowedReason] = row.allowed;
    expect(plan.conditions).toEqual([
      { type: 'StormActive', status: stormStatus, reason: stormReason, message: plan.storm.message },
      {
        type: 'RemediationAllowed',
        status: allowedStatus,
        reason: allowedReason,
        message: plan.storm.message,
      },
    ]);
    expect(plan.status).toEqual({
      expectedMachines: 3,
      currentHealthy: row.machines.length - row.machines.filter((m) => m.name.startsWith('sick')).length,
      remediationsAllowed: row.remediationsAllowed,
      inFlightRemediations: 0,
    });
  });
});

describe('planRemediation properties', () => {
  it('never takes more new budget places in a pool than maxUnavailable leaves', () => {
    fc.assert(
      fc.property(arbitraryInput, (i) => {
        const plan = planRemediation(i);
        const byName = new Map(i.machines.map((m) => [m.name, m]));
        for (const [pool, budget] of i.budgets) {
          const newlyDisrupted = plan.act.filter((a) => {
            const m = byName.get(a.machine);
            return m?.pool === pool && !m.occupiesBudget;
          }).length;
          expect(budget.used + newlyDisrupted).toBeLessThanOrEqual(Math.max(budget.limit, budget.used));
        }
      }),
    );
  });

  it('climbs the ladder one step at a time, only after the previous timeout', () => {
    fc.assert(
      fc.property(arbitraryInput, (i) => {
        const plan = planRemediation(i);
        for (const act of plan.act) {
          const m = i.machines.find((x) => x.name === act.machine);
          const active = m?.record && m.record.state === 'InProgress' ? m.record : undefined;
          if (!active) {
            expect(act.step).toBe(0);
          } else {
            expect(act.step).toBe(active.step + 1);
            const timeout = parseGoDuration(spec.actions[active.step]?.timeout ?? '10m');
            expect(active.startedAt + timeout).toBeLessThanOrEqual(NOW);
          }
          expect(act.action).toBe(spec.actions[act.step]);
          expect(m?.record?.state).not.toBe('Exhausted');
        }
      }),
    );
  });

  it('issues nothing during a storm or its cooldown, and never acts on a healthy machine', () => {
    fc.assert(
      fc.property(arbitraryInput, (i) => {
        const plan = planRemediation(i);
        if (plan.storm.active || plan.storm.coolingDown) expect(plan.act).toEqual([]);
        if (plan.counts.unhealthy > plan.counts.maxUnhealthy) expect(plan.storm.active).toBe(true);
        for (const act of plan.act) {
          const m = i.machines.find((x) => x.name === act.machine);
          const since = m?.conditions[0]?.since;
          expect(since !== undefined && since + 5 * MIN <= NOW).toBe(true);
        }
        for (const name of plan.finish)
          expect(i.machines.find((x) => x.name === name)?.conditions).toEqual([]);
      }),
    );
  });
});
