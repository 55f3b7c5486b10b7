import { RolloutAnnotations, templateRevision } from '@kok/api';
import type { Machine, NodePool } from '@kok/api';
import { describe, expect, it } from 'vitest';
import { renderRolloutEta } from './render/rollout-eta.ts';
import { rolloutEta } from './rollout-eta.ts';

const now = new Date('2026-03-01T12:00:00Z');
const at = (seconds: number) => new Date(now.getTime() + seconds * 1000).toISOString();
const OLD = { components: [{ name: 'kubelet', version: 'v1.36.1' }] };
const NEW = { components: [{ name: 'kubelet', version: 'v1.36.2' }] };
const old = templateRevision(OLD);
const target = templateRevision(NEW);

const pool: NodePool = {
  metadata: { name: 'workers' },
  spec: {
    template: NEW,
    rollout: { strategy: { rollingUpdate: { maxUnavailable: 1 } }, waves: [{ name: 'canary', count: 1 }] },
    disruptionPolicy: { defaultAction: 'Restart' },
  },
  status: { currentRevision: old, updateRevision: target },
} as NodePool;

const conditions = (healthySince: string) =>
  ['AgentReady', 'UpToDate', 'NodeHealthy'].map((type) => ({
    type,
    status: 'True' as const,
    reason: 'AsExpected',
    message: '',
    lastTransitionTime: healthySince,
  }));

/** A machine of the pool: done at the target (told and healthy at those offsets), told and updating, or not told yet. */
function member(name: string, state: { toldAt?: number; healthyAt?: number }): Machine {
  const told = state.toldAt !== undefined;
  const done = state.healthyAt !== undefined;
  return {
    metadata: {
      name,
      ...(told
        ? { annotations: { [RolloutAnnotations.revisionAssigned]: `${target}/${at(state.toldAt ?? 0)}` } }
        : {}),
    },
    spec: { pool: 'workers', revision: told ? target : old, ...(told ? NEW : OLD) },
    status: {
      revision: { current: done ? target : old, desired: told ? target : old },
      conditions: conditions(done ? at(state.healthyAt ?? 0) : at(-86_400)),
    },
  } as Machine;
}

describe('rollout ETA', () => {
  it.each([
    // The canary took 100 s: worker-1 has 60 s to go, then two more at 100 s each, one at a time.
    { canaryTook: 100, seconds: 60 + 100 + 100 },
    // A slower canary slows the whole estimate: the pace is what was observed.
    { canaryTook: 200, seconds: 160 + 200 + 200 },
  ])('follows the observed pace (canary took $canaryTook s)', ({ canaryTook, seconds }) => {
    const machines = [
      member('worker-0', { toldAt: -1000, healthyAt: -1000 + canaryTook }),
      member('worker-1', { toldAt: -40 }),
      member('worker-2', {}),
      member('worker-3', {}),
    ];
    const eta = rolloutEta(pool, machines, now);
    expect(eta).toMatchObject({ outcome: 'Complete', seconds });
    expect(eta.waves.map((wave) => wave.finishesAtSeconds)).toEqual([0, seconds]);
    const text = renderRolloutEta(eta, now);
    expect(text).toContain(
      `median of 1 observed upgrade (${canaryTook === 100 ? '100s' : '3m20s'} from being told`,
    );
    expect(text).toContain('"canary" (waves[0]) done');
  });

  it('gives none while the pool is paused, and says why', () => {
    const paused = { ...pool, spec: { ...pool.spec, paused: true } };
    const eta = rolloutEta(paused, [member('worker-0', {})], now);
    expect(eta.outcome).toBe('Stopped');
    expect(renderRolloutEta(eta, now)).toContain(
      'ETA:         none while it stays stopped: NodePool "workers" paused (spec.paused)',
    );
  });

  it('reads a pause the node-operator set after a pauseAfter: true wave as the operator does: awaiting a resume', () => {
    const held = {
      ...pool,
      metadata: { name: 'workers', annotations: { [RolloutAnnotations.pausedAfterWave]: `${target}/0` } },
      spec: {
        ...pool.spec,
        paused: true,
        rollout: { ...pool.spec.rollout, waves: [{ name: 'canary', count: 1, pauseAfter: true }] },
      },
    } as NodePool;
    const machines = [member('worker-0', { toldAt: -100, healthyAt: -50 }), member('worker-1', {})];
    const eta = rolloutEta(held, machines, now);
    expect(eta.outcome).toBe('Stopped');
    expect(eta.stoppedBy).toMatchObject({
      reason: 'AwaitingResume',
      message: expect.stringContaining('then run kubectl kok nodepool resume workers to start'),
    });
  });

  it('says done once every machine runs the target', () => {
    const eta = rolloutEta(pool, [member('worker-0', { toldAt: -100, healthyAt: -50 })], now);
    expect(renderRolloutEta(eta, now)).toContain('ETA:         done');
  });
});
