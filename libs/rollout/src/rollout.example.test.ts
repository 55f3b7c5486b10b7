// README.md shows this file from the next line to "end of example"; the last test keeps the two the same.
import { describe, expect, it } from 'vitest';
// The lib's public surface; other projects import it from '@kok/rollout'.
import { planRollout, type MachineState, type RolloutInput } from './index.ts';

/** A machine healthy at r1, whose move to r2 needs a drain. */
const machine = (name: string, zone: string): MachineState => ({
  name,
  labels: { zone },
  currentRevision: 'r1',
  desiredRevision: 'r1',
  ready: true,
  cordoned: false,
  needsDisruption: true,
});

describe('a canary rollout, planned step by step', () => {
  it('drains before it updates, bakes the canary, then goes on in order', () => {
    const start = Date.parse('2026-01-01T00:00:00Z');
    const input: RolloutInput = {
      pool: 'workers',
      spec: {
        maxUnavailable: 1,
        waves: [{ name: 'canary', count: 1, bakeSeconds: 600 }],
        order: ['zone'], // zone by zone, then by name
      },
      targetRevision: 'r2',
      lastGoodRevision: 'r1',
      machines: [machine('worker-a', 'zone-b'), machine('worker-b', 'zone-a'), machine('worker-c', 'zone-a')],
      now: start,
    };

    // 1. The first machine in order is cordoned and drained; nothing else may start (maxUnavailable 1).
    let plan = planRollout(input);
    expect(plan).toMatchObject({ cordon: ['worker-b'], drain: ['worker-b'], assign: [], currentWave: 0 });

    // 2. The caller applied that and observed the drain finish: now the revision is handed out.
    const cordoned = { cordoned: true, cordonedByRollout: true, drained: true };
    plan = planRollout({
      ...input,
      machines: input.machines.map((m) => (m.name === 'worker-b' ? { ...m, ...cordoned } : m)),
    });
    expect(plan.assign).toEqual([{ machine: 'worker-b', revision: 'r2' }]);

    // 3. The canary runs r2 healthy: its cordon is lifted and the canary bakes for 600 s.
    const updated = { ...cordoned, currentRevision: 'r2', desiredRevision: 'r2', finishedAt: start };
    const afterCanary = input.machines.map((m) => (m.name === 'worker-b' ? { ...m, ...updated } : m));
    plan = planRollout({ ...input, machines: afterCanary });
    expect(plan.uncordon).toEqual(['worker-b']);
    expect(plan.pause).toMatchObject({ reason: 'Baking', until: start + 600_000 });
    expect(plan.wakeAt).toBe(start + 600_000); // the caller looks again then, even if nothing changes

    // 4. Cordon lifted and baked: the last wave opens with the next machine in order.
    const uncordoned = afterCanary.map((m) => ({
      ...m,
      cordoned: false,
      cordonedByRollout: false,
      drained: false,
    }));
    plan = planRollout({ ...input, machines: uncordoned, now: start + 600_000 });
    expect(plan).toMatchObject({ cordon: ['worker-c'], currentWave: 1, complete: false });
    expect(plan.message).toContain('NodePool "workers" rolling out revision r2');
  });
});
// end of example

it('is the example README.md shows', async () => {
  const { readFileSync } = await import('node:fs');
  const source = readFileSync(new URL(import.meta.url), 'utf8');
  const start = source.indexOf('\n', source.indexOf('README.md shows this file')) + 1;
  const example = source.slice(start, source.indexOf('// end of example'));
  expect(example).toContain("from './index.ts'");
  expect(readFileSync(new URL('../README.md', import.meta.url), 'utf8')).toContain(example);
});
