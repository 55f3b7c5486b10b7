import { findCondition, NodePoolConditions } from '@kok/api';
import type { NodePool } from '@kok/api';
import type { KubernetesObject } from '@kubernetes/client-node';
import { Gauge } from 'prom-client';
import type { Registry } from 'prom-client';
import { PAUSED_REASONS } from './pool-status.ts';

/** Reasons of RollingOut=True: moving machines, or holding between waves on its own (pool-status.ts). */
export const ROLLING_OUT_REASONS = ['RollingOut', 'Baking', 'PauseAfter'] as const;

/** Where the pools' series come from: the NodePool cache (only `list` is read). */
export interface PoolSource {
  list(): readonly (NodePool & KubernetesObject)[];
}

/** One pool's status as numbers, the values its series carry. */
export interface PoolSeries {
  machines: number;
  updatedMachines: number;
  readyMachines: number;
  unavailableMachines: number;
  failedMachines: number;
  currentWave: number;
  /** 1 for the RollingOut reason in force, 0 for the others; every reason is present. */
  rollingOut: Record<string, 0 | 1>;
  /** 1 for the Paused reason in force, 0 for the others; every reason is present. */
  paused: Record<string, 0 | 1>;
}

/** A pool's series from its status; a pool not reconciled yet reads as empty, neither rolling out nor paused. */
export function poolSeries(pool: NodePool): PoolSeries {
  const status = pool.status ?? {};
  return {
    machines: status.machines ?? 0,
    updatedMachines: status.updatedMachines ?? 0,
    readyMachines: status.readyMachines ?? 0,
    unavailableMachines: status.unavailableMachines ?? 0,
    failedMachines: status.failedMachines ?? 0,
    currentWave: status.currentWave ?? 0,
    rollingOut: oneHot(ROLLING_OUT_REASONS, findCondition(status.conditions, NodePoolConditions.RollingOut)),
    paused: oneHot(PAUSED_REASONS, findCondition(status.conditions, NodePoolConditions.Paused)),
  };
}

/** Every known reason at 0, the condition's own at 1 when it is True (an unknown reason gets a series too). */
function oneHot(
  reasons: readonly string[],
  condition: { status: string; reason: string } | undefined,
): Record<string, 0 | 1> {
  const values: Record<string, 0 | 1> = Object.fromEntries(reasons.map((r) => [r, 0]));
  if (condition?.status === 'True') values[condition.reason] = 1;
  return values;
}

/**
 * The node-operator's pool metrics. Two are set by the NodePool controller:
 * per pool, machines disrupted by kok or otherwise unavailable (they share one
 * budget), next to the budget itself; kok_nodepool_disrupted_machines >
 * kok_nodepool_max_unavailable is a bug (or hosts dying on their own), worth an
 * alert. The rest are read from NodePool status in the cache at scrape time,
 * so they agree with `kubectl get nodepools`, exist for every pool (0 included)
 * and vanish with the pool.
 */
export class PoolMetrics {
  readonly disrupted: Gauge<'pool'>;
  readonly maxUnavailable: Gauge<'pool'>;

  constructor(registry: Registry, pools?: PoolSource) {
    const registers = [registry];
    this.disrupted = new Gauge({
      name: 'kok_nodepool_disrupted_machines',
      help: 'Machines of the pool taking a place in its disruption budget: unavailable, or told a revision they do not run yet.',
      labelNames: ['pool'],
      registers,
    });
    this.maxUnavailable = new Gauge({
      name: 'kok_nodepool_max_unavailable',
      help: "The pool's maxUnavailable, resolved for its size.",
      labelNames: ['pool'],
      registers,
    });
    if (!pools) return;
    const counts: [string, string, (s: PoolSeries) => number][] = [
      ['kok_nodepool_machines', 'Machines in the pool (status.machines).', (s) => s.machines],
      [
        'kok_nodepool_updated_machines',
        'Machines running the pool’s updateRevision (status.updatedMachines); flat while rolling out means stalled.',
        (s) => s.updatedMachines,
      ],
      [
        'kok_nodepool_ready_machines',
        'Machines Ready and healthy (status.readyMachines).',
        (s) => s.readyMachines,
      ],
      [
        'kok_nodepool_unavailable_machines',
        'Machines unavailable for any reason (status.unavailableMachines).',
        (s) => s.unavailableMachines,
      ],
      [
        'kok_nodepool_failed_machines',
        'Machines that failed at the target revision (status.failedMachines); maxFailed pauses the pool.',
        (s) => s.failedMachines,
      ],
      [
        'kok_nodepool_current_wave',
        'Index of the wave being rolled out or held after (status.currentWave).',
        (s) => s.currentWave,
      ],
    ];
    for (const [name, help, value] of counts)
      new Gauge({
        name,
        help,
        labelNames: ['pool'],
        registers,
        collect() {
          this.reset();
          for (const pool of pools.list()) this.set({ pool: poolName(pool) }, value(poolSeries(pool)));
        },
      });
    const reasons: [string, string, (s: PoolSeries) => Record<string, 0 | 1>][] = [
      [
        'kok_nodepool_rolling_out',
        '1 for the reason of RollingOut=True: RollingOut (machines moving now), Baking or PauseAfter (timed holds between waves); all 0 when complete or stopped.',
        (s) => s.rollingOut,
      ],
      [
        'kok_nodepool_paused',
        '1 for the reason the pool is stopped (Paused=True): Paused (spec.paused), AwaitingResume (pauseAfter: true), TooManyFailures (failure budget), RolledBack, InvalidSpec, VersionSkew, ComponentNotFound, VersionNotFound, ComponentNotAccepted (the template names what the Component catalog does not offer).',
        (s) => s.paused,
      ],
    ];
    for (const [name, help, value] of reasons)
      new Gauge({
        name,
        help,
        labelNames: ['pool', 'reason'],
        registers,
        collect() {
          this.reset();
          for (const pool of pools.list())
            for (const [reason, v] of Object.entries(value(poolSeries(pool))))
              this.set({ pool: poolName(pool), reason }, v);
        },
      });
  }

  set(pool: string, disrupted: number, maxUnavailable: number): void {
    this.disrupted.set({ pool }, disrupted);
    this.maxUnavailable.set({ pool }, maxUnavailable);
  }

  forget(pool: string): void {
    this.disrupted.remove({ pool });
    this.maxUnavailable.remove({ pool });
  }
}

function poolName(pool: KubernetesObject): string {
  return pool.metadata?.name ?? '';
}
