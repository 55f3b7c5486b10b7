import type { NodePool } from '@kok/api';
import type { PauseReason, RolloutPlan } from '@kok/rollout';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { PoolMetrics } from './pool-metrics.ts';
import { poolStatusFor } from './pool-status.ts';
import type { NodePoolObject } from '@kok/api';

function pool(name: string, status?: NodePool['status']): NodePoolObject {
  return {
    apiVersion: 'nodes.kok.dev/v1alpha1',
    kind: 'NodePool',
    metadata: { name, generation: 1 },
    spec: { selector: { matchLabels: { pool: name } }, template: { components: [] } },
    ...(status ? { status } : {}),
  } as NodePoolObject;
}

/** A plan as the planner makes it mid-rollout: 2 of 5 machines updated, one failed. */
function plan(pause?: PauseReason, complete = false): RolloutPlan {
  return {
    targetRevision: 'abc123',
    assign: [],
    cordon: [],
    drain: [],
    uncordon: [],
    ...(pause ? { pause: { reason: pause, message: `held: ${pause}` } } : {}),
    rolledBack: false,
    complete,
    currentWave: 1,
    waveCount: 3,
    maxUnavailable: 1,
    counts: { machines: 5, updatedMachines: 2, readyMachines: 4, unavailableMachines: 1, failedMachines: 1 },
    failed: [{ machine: 'w-3', revision: 'abc123', message: 'kubelet: exec check exited 1' }],
    waiting: [],
    message: 'rolling',
  };
}

/** A pool whose status the real status writer made from `p`. */
function poolAfter(name: string, p: RolloutPlan): NodePoolObject {
  const object = pool(name);
  return { ...object, status: poolStatusFor({ pool: object, plan: p, now: new Date(0) }) };
}

/** The value of one series in the text exposition, or undefined when it is absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

async function scrape(pools: NodePoolObject[]): Promise<string> {
  const registry = new Registry();
  new PoolMetrics(registry, { list: () => pools });
  return registry.metrics();
}

describe('pool metrics', () => {
  it.each([
    ['FailureBudgetExceeded', 'TooManyFailures'],
    ['Paused', 'Paused'],
    ['AwaitingResume', 'AwaitingResume'],
    ['RolledBack', 'RolledBack'],
    ['InvalidSpec', 'InvalidSpec'],
  ] as const)(
    'a pool stopped by %s reads paused{reason="%s"} 1 and every other reason 0',
    async (pause, reason) => {
      const text = await scrape([poolAfter('workers', plan(pause))]);
      for (const r of [
        'Paused',
        'AwaitingResume',
        'TooManyFailures',
        'RolledBack',
        'InvalidSpec',
        'VersionSkew',
        'ComponentNotFound',
        'VersionNotFound',
        'ComponentNotAccepted',
      ])
        expect(sample(text, `kok_nodepool_paused{pool="workers",reason="${r}"}`)).toBe(r === reason ? 1 : 0);
      for (const r of ['RollingOut', 'Baking', 'PauseAfter'])
        expect(sample(text, `kok_nodepool_rolling_out{pool="workers",reason="${r}"}`)).toBe(0);
    },
  );

  it.each([
    [undefined, 'RollingOut'],
    ['Baking', 'Baking'],
    ['PauseAfter', 'PauseAfter'],
  ] as const)(
    'a pool rolling out (%s) reads rolling_out{reason="%s"} 1 and is not paused',
    async (pause, reason) => {
      const text = await scrape([poolAfter('workers', plan(pause))]);
      for (const r of ['RollingOut', 'Baking', 'PauseAfter'])
        expect(sample(text, `kok_nodepool_rolling_out{pool="workers",reason="${r}"}`)).toBe(
          r === reason ? 1 : 0,
        );
      expect(sample(text, 'kok_nodepool_paused{pool="workers",reason="Paused"}')).toBe(0);
    },
  );

  it('a complete pool is neither rolling out nor paused, and reports its counts', async () => {
    const text = await scrape([poolAfter('workers', plan(undefined, true))]);
    expect(sample(text, 'kok_nodepool_rolling_out{pool="workers",reason="RollingOut"}')).toBe(0);
    expect(sample(text, 'kok_nodepool_paused{pool="workers",reason="TooManyFailures"}')).toBe(0);
    expect(sample(text, 'kok_nodepool_machines{pool="workers"}')).toBe(5);
    expect(sample(text, 'kok_nodepool_updated_machines{pool="workers"}')).toBe(2);
    expect(sample(text, 'kok_nodepool_ready_machines{pool="workers"}')).toBe(4);
    expect(sample(text, 'kok_nodepool_unavailable_machines{pool="workers"}')).toBe(1);
    expect(sample(text, 'kok_nodepool_failed_machines{pool="workers"}')).toBe(1);
    expect(sample(text, 'kok_nodepool_current_wave{pool="workers"}')).toBe(1);
  });

  it('a pool without a status yet has every series, at 0', async () => {
    const text = await scrape([pool('fresh')]);
    expect(sample(text, 'kok_nodepool_machines{pool="fresh"}')).toBe(0);
    expect(sample(text, 'kok_nodepool_updated_machines{pool="fresh"}')).toBe(0);
    expect(sample(text, 'kok_nodepool_paused{pool="fresh",reason="TooManyFailures"}')).toBe(0);
    expect(sample(text, 'kok_nodepool_rolling_out{pool="fresh",reason="RollingOut"}')).toBe(0);
  });

  it('follows the cache: a deleted pool loses its series on the next scrape', async () => {
    const registry = new Registry();
    let pools = [pool('a'), pool('b')];
    new PoolMetrics(registry, { list: () => pools });
    expect(sample(await registry.metrics(), 'kok_nodepool_machines{pool="b"}')).toBe(0);
    pools = [pool('a')];
    const text = await registry.metrics();
    expect(sample(text, 'kok_nodepool_machines{pool="a"}')).toBe(0);
    expect(sample(text, 'kok_nodepool_machines{pool="b"}')).toBeUndefined();
    expect(sample(text, 'kok_nodepool_paused{pool="b",reason="Paused"}')).toBeUndefined();
  });

  it('keeps the budget gauges the controller sets, and forgets them with the pool', async () => {
    const registry = new Registry();
    const metrics = new PoolMetrics(registry);
    metrics.set('workers', 2, 3);
    let text = await registry.metrics();
    expect(sample(text, 'kok_nodepool_disrupted_machines{pool="workers"}')).toBe(2);
    expect(sample(text, 'kok_nodepool_max_unavailable{pool="workers"}')).toBe(3);
    metrics.forget('workers');
    text = await registry.metrics();
    expect(sample(text, 'kok_nodepool_disrupted_machines{pool="workers"}')).toBeUndefined();
  });
});
