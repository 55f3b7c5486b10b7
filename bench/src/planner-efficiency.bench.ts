// Planner efficiency, the planner alone: how close the pure rollout planner brings a rollout to the ideal
// time ⌈N / maxUnavailable⌉ · T when every machine takes T to upgrade. efficiency = ideal / measured
// wall-clock time (1.0 = no time lost). This is an upper bound for the operator, not the operator's figure:
// rollout-efficiency runs the node-operator process against an apiserver.
//
// What runs: the pure planner `planRollout` from @kok/rollout, called in a loop exactly as the
// node-operator's NodePool reconciler calls it (observe every machine → plan → apply the assignments,
// cordons and uncordons → plan again on the next change or at `wakeAt`), with reconciles coalesced like
// a work queue (one at a time; changes during a reconcile trigger exactly one more).
// LOAD GENERATOR, not kok: the agent fleet is simulated in process. A simulated agent reports a machine
// done T ms (real time, setTimeout) after it is told a new revision. There is no apiserver and there are
// no real agents here, no Machine or Node writes, no client rate limit and no pass throttle (the operator
// plans a pool at most once a second); rollout-efficiency measures all of that.
//
// Baseline in the same run: lock-step batches (hand out maxUnavailable machines, wait until the whole
// batch is done, hand out the next batch), driven by the same simulated fleet.
// A second figure uses upgrade times spread uniformly over [T/2, 3T/2], where rolling replacement
// and lock-step batches differ (a batch waits for its slowest machine).
//
//   npm run bench -- planner-efficiency [--upgrade-ms 1000] [--runs 3] [--sizes 1000,10000]
import { parseArgs } from 'node:util';
import { planRollout, resolveMaxUnavailable } from '@kok/rollout';
import type { MachineState, RolloutSpec } from '@kok/rollout';
import { median, round } from './statistics.ts';

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    'upgrade-ms': { type: 'string', default: '1000' },
    runs: { type: 'string', default: '3' },
    sizes: { type: 'string', default: '1000,10000' },
  },
});
/** T: simulated time one machine takes to upgrade. Default 1000 ms (real upgrades take minutes; planning cost matters less then). */
const upgradeMs = Number(values['upgrade-ms']);
/** Runs per figure; medians are reported. Default 3. */
const runs = Number(values.runs);
/** Pool sizes, one figure each. Default 1000 and 10000. */
const sizes = values.sizes.split(',').map(Number);
const maxUnavailable = '5%';
const OLD = 'rev-old';
const TARGET = 'rev-new';

/** Deterministic pseudo-random numbers in [0, 1) (mulberry32), so runs are comparable. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** LOAD GENERATOR: N simulated agents, each done `duration(i)` ms after being told a new revision. */
class SimulatedFleet {
  readonly machines: MachineState[];
  readonly #duration: (index: number) => number;
  readonly #onChange: () => void;
  readonly #timers = new Set<NodeJS.Timeout>();

  constructor(count: number, duration: (index: number) => number, onChange: () => void) {
    this.machines = Array.from({ length: count }, (_, i) => ({
      name: `m${String(i).padStart(5, '0')}`,
      labels: {},
      currentRevision: OLD,
      desiredRevision: OLD,
      ready: true,
      cordoned: false,
      needsDisruption: false,
      finishedAt: 0,
    }));
    this.#duration = duration;
    this.#onChange = onChange;
  }

  /** What the operator writes into Machine.spec.revision; the agent starts converging. */
  tell(index: number, revision: string): void {
    const machine = this.machines[index] as MachineState;
    machine.desiredRevision = revision;
    machine.startedAt = Date.now();
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      machine.currentRevision = revision;
      machine.finishedAt = Date.now();
      this.#onChange();
    }, this.#duration(index));
    this.#timers.add(timer);
  }

  stop(): void {
    for (const timer of this.#timers) clearTimeout(timer);
  }
}

interface RunResult {
  ms: number;
  plans: number;
  planMsTotal: number;
}

/** The operator's loop around the pure planner, as nodepool-reconciler.ts does it, without the API in between. */
function rolloutWithPlanner(count: number, duration: (index: number) => number): Promise<RunResult> {
  const spec: RolloutSpec = { maxUnavailable };
  return new Promise((resolve, reject) => {
    let running = false;
    let dirty = false;
    let plans = 0;
    let planMsTotal = 0;
    let wake: NodeJS.Timeout | undefined;
    const began = performance.now();
    const indexOf = new Map<string, number>();
    const fleet = new SimulatedFleet(count, duration, () => enqueue());
    fleet.machines.forEach((m, i) => indexOf.set(m.name, i));

    function enqueue(): void {
      dirty = true;
      if (!running) setImmediate(reconcile);
      running = true;
    }

    function reconcile(): void {
      dirty = false;
      try {
        // Observe: a snapshot, as the informer caches would give it.
        const observed = fleet.machines.map((m) => ({ ...m }));
        const planStarted = performance.now();
        const plan = planRollout({
          pool: 'bench',
          spec,
          targetRevision: TARGET,
          lastGoodRevision: OLD,
          machines: observed,
          now: Date.now(),
        });
        planMsTotal += performance.now() - planStarted;
        plans++;
        if (plan.complete) {
          fleet.stop();
          clearTimeout(wake);
          resolve({ ms: performance.now() - began, plans, planMsTotal });
          return;
        }
        // Apply: cordons, revisions, uncordons (the drain is instant: no pods in this simulation).
        for (const name of plan.cordon) {
          const machine = fleet.machines[indexOf.get(name) as number] as MachineState;
          machine.cordoned = true;
          machine.cordonedByRollout = true;
          machine.drained = true;
        }
        for (const { machine, revision } of plan.assign) fleet.tell(indexOf.get(machine) as number, revision);
        for (const name of plan.uncordon) {
          const machine = fleet.machines[indexOf.get(name) as number] as MachineState;
          machine.cordoned = false;
          machine.cordonedByRollout = false;
          machine.drained = false;
        }
        if (plan.pause && plan.wakeAt === undefined && plan.assign.length === 0 && !dirty)
          throw new Error(`the rollout stopped: ${plan.pause.reason}: ${plan.pause.message}`);
        if (plan.wakeAt !== undefined) {
          clearTimeout(wake);
          wake = setTimeout(enqueue, Math.max(0, plan.wakeAt - Date.now()));
        }
      } catch (error) {
        fleet.stop();
        reject(error as Error);
        return;
      }
      if (dirty) setImmediate(reconcile);
      else running = false;
    }

    enqueue();
  });
}

/** Baseline: lock-step batches of maxUnavailable machines, each batch waiting for its slowest machine. */
function rolloutInLockStep(count: number, duration: (index: number) => number): Promise<RunResult> {
  const batch = resolveMaxUnavailable(maxUnavailable, count);
  return new Promise((resolve) => {
    const began = performance.now();
    let next = 0;
    let pending = 0;
    let batches = 0;
    const fleet = new SimulatedFleet(count, duration, () => {
      if (--pending === 0) startBatch();
    });
    function startBatch(): void {
      if (next >= count) {
        resolve({ ms: performance.now() - began, plans: batches, planMsTotal: 0 });
        return;
      }
      batches++;
      const end = Math.min(count, next + batch);
      pending = end - next;
      for (; next < end; next++) fleet.tell(next, TARGET);
    }
    startBatch();
  });
}

const fixed = () => upgradeMs;
const spread = (seed: number) => {
  const next = random(seed);
  const table = new Map<number, number>();
  return (index: number) => {
    let value = table.get(index);
    if (value === undefined) table.set(index, (value = upgradeMs * (0.5 + next())));
    return value;
  };
};

async function measure(
  rollout: (count: number, duration: (index: number) => number) => Promise<RunResult>,
  count: number,
  duration: () => (index: number) => number,
): Promise<RunResult[]> {
  const results: RunResult[] = [];
  for (let run = 0; run < runs; run++) results.push(await rollout(count, duration()));
  return results;
}

await rolloutWithPlanner(1_000, fixed); // warm-up: JIT
const figures = [];
for (const count of sizes) {
  const budget = resolveMaxUnavailable(maxUnavailable, count);
  const idealMs = Math.ceil(count / budget) * upgradeMs;
  const planner = await measure(rolloutWithPlanner, count, () => fixed);
  const lockStep = await measure(rolloutInLockStep, count, () => fixed);
  let seed = 1;
  const plannerSpread = await measure(rolloutWithPlanner, count, () => spread(seed++));
  seed = 1;
  const lockStepSpread = await measure(rolloutInLockStep, count, () => spread(seed++));
  const medianMs = (results: RunResult[]) => median(results.map((r) => r.ms));
  const figure = {
    machines: count,
    maxUnavailable: budget,
    idealMs,
    plannerMedianMs: Math.round(medianMs(planner)),
    efficiency: round(idealMs / medianMs(planner), 3),
    plannerCallsMedian: median(planner.map((r) => r.plans)),
    planMsPerCallMedian: round(median(planner.map((r) => r.planMsTotal / r.plans)), 2),
    baselineLockStepMedianMs: Math.round(medianMs(lockStep)),
    baselineLockStepEfficiency: round(idealMs / medianMs(lockStep), 3),
    spreadUpgradeTimes: {
      plannerMedianMs: Math.round(medianMs(plannerSpread)),
      lockStepMedianMs: Math.round(medianMs(lockStepSpread)),
      plannerVsLockStep: round(medianMs(lockStepSpread) / medianMs(plannerSpread), 3),
    },
  };
  console.error(JSON.stringify(figure));
  figures.push(figure);
}

console.log(
  JSON.stringify({
    benchmark: 'planner-efficiency',
    driver: 'planRollout (@kok/rollout) in the operator loop, in process',
    loadGenerator:
      'in-process simulated agent fleet (setTimeout per machine), not real agents or an apiserver',
    upgradeMs,
    maxUnavailable,
    runs,
    figures,
  }),
);
