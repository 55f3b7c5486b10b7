// Rollout planner cost: one planRollout call on a pool of N machines, pure, in isolation (no timers, no
// simulated fleet). The operator plans a pool again on every change, so this is what each pass pays.
//
// Three cases per size, each the median of many calls, as wall-clock and CPU milliseconds per call:
//  - sameListing: the pool listed in the same order as on the previous call (the rollout-efficiency loop);
//  - relisted: the same machines listed in a new order each call (an informer index after updates);
//  - newNames: machines the planner has never seen, so it has to sort them.
// The pool is mid-rollout: 40% done at the target, maxUnavailable 5% updating, the rest waiting, named
// worker-<i> so that names compare as numbers, and zone-labelled, ordered by zone then name.
//
//   npm run bench -- rollout-planner [--calls 30] [--sizes 1000,10000]
import { parseArgs } from 'node:util';
import { planRollout } from '@kok/rollout';
import type { MachineState, RolloutInput } from '@kok/rollout';
import { median, round } from './statistics.ts';

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: { calls: { type: 'string', default: '30' }, sizes: { type: 'string', default: '1000,10000' } },
});
/** Calls measured per case; medians are reported. Default 30. */
const calls = Number(values.calls);
/** Pool sizes, one figure each. Default 1000 and 10000. */
const sizes = values.sizes.split(',').map(Number);
const TARGET = 'rev-new';

function pool(count: number, prefix: string): MachineState[] {
  const budget = Math.floor(count * 0.05);
  return Array.from({ length: count }, (_, i) => {
    const done = i < count * 0.4;
    const updating = !done && i < count * 0.4 + budget;
    return {
      name: `${prefix}-${i + 1}`,
      labels: { 'topology.kubernetes.io/zone': `zone-${i % 3}` },
      currentRevision: done ? TARGET : 'rev-old',
      desiredRevision: done || updating ? TARGET : 'rev-old',
      ready: true,
      cordoned: false,
      needsDisruption: false,
      finishedAt: 0,
    };
  });
}

/** Deterministic shuffle (a linear congruential generator), so runs are comparable. */
function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  let state = seed >>> 0;
  for (let i = out.length - 1; i > 0; i--) {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    const j = state % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

function input(machines: readonly MachineState[]): RolloutInput {
  return {
    pool: 'bench',
    spec: { maxUnavailable: '5%', order: ['topology.kubernetes.io/zone'] },
    targetRevision: TARGET,
    lastGoodRevision: 'rev-old',
    machines,
    now: Date.now(),
  };
}

interface PerCall {
  wallMs: number;
  cpuMs: number;
}

/** Median wall and CPU time of one call, over `calls` calls each given the machines `next(call)` returns. */
function measure(next: (call: number) => readonly MachineState[]): PerCall {
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let call = -3; call < calls; call++) {
    const machines = next(call);
    const wallBefore = performance.now();
    const cpuBefore = process.cpuUsage();
    planRollout(input(machines));
    const used = process.cpuUsage(cpuBefore);
    if (call < 0) continue; // warm-up
    wall.push(performance.now() - wallBefore);
    cpu.push((used.user + used.system) / 1000);
  }
  return { wallMs: round(median(wall), 3), cpuMs: round(median(cpu), 3) };
}

const figures = [];
for (const count of sizes) {
  const machines = pool(count, 'worker');
  const listings = Array.from({ length: 4 }, (_, i) => shuffled(machines, i + 1));
  // Made before measuring, so that building them is not counted.
  const strangers = Array.from({ length: calls + 3 }, (_, i) => pool(count, `host${i}`));
  const figure = {
    machines: count,
    sameListing: measure(() => machines.map((m) => ({ ...m }))),
    relisted: measure((call) =>
      (listings[(call + 4) % listings.length] as MachineState[]).map((m) => ({ ...m })),
    ),
    newNames: measure((call) => strangers[call + 3] as MachineState[]),
  };
  console.error(JSON.stringify(figure));
  figures.push(figure);
}

const [load1] = await import('node:os').then((os) => os.loadavg());
console.log(
  JSON.stringify({
    benchmark: 'rollout-planner',
    driver: 'planRollout (@kok/rollout), pure, in process',
    calls,
    loadAverage1m: round(load1 ?? 0, 2),
    figures,
  }),
);
