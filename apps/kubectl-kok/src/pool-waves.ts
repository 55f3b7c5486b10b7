/**
 * The waves of a NodePool rollout with the machines each one holds, so
 * `nodepool status` can show progress per wave. NodePool status keeps only
 * pool-wide counts (it must stay small at 10,000 machines), so the waves are
 * worked out here from the spec and the Machines with the planner's own
 * functions (libs/rollout README): machines in rollout order (orderMachines),
 * then resolveWaves: waves cumulative, `count`/`percent` (rounded up) growing
 * the rolled-out set, `selector` adding its matches, and a last implicit wave
 * for the rest.
 *
 * Machine labels are what is read here; the node-operator also reads the Node's
 * labels, so wave selectors or order keys that exist only on Nodes can place
 * a machine differently than shown.
 */
import type { Machine, NodePool } from '@kok/api';
import { isNodePoolMember, orderMachines, resolveWaves } from '@kok/rollout';
import type { MachineState } from '@kok/rollout';
import type { MachineProgress } from './machine-progress.ts';
import { failureMessageOf, machineProgress } from './machine-progress.ts';

export interface WaveProgress {
  /** Position in spec.rollout.waves; the implicit wave comes last. */
  index: number;
  /** The wave's name, or `(remaining)` / `(all machines)` for the implicit one. */
  name: string;
  implicit: boolean;
  machines: number;
  updated: number;
  updating: number;
  failed: number;
  pending: number;
  /** A person must resume the pool after this wave. */
  pauseAfter: boolean;
  bakeSeconds: number;
}

export interface FailedMachine {
  name: string;
  message: string;
}

export interface PoolWaves {
  waves: WaveProgress[];
  /** Machines failed at the target, in rollout order. */
  failed: FailedMachine[];
}

interface Ordered extends MachineState {
  machine: Machine;
}

/** Splits the pool's machines into waves and counts each wave's progress towards `target`. Pure. */
export function poolWaves(pool: NodePool, machines: readonly Machine[], target: string): PoolWaves {
  const members: Ordered[] = machines
    .filter((machine) => isNodePoolMember(machine, pool))
    .map((machine) => ({
      machine,
      name: machine.metadata?.name ?? '',
      labels: machine.metadata?.labels ?? {},
      // Only name and labels matter for ordering and waves; the rest is filled in to satisfy the type.
      ready: true,
      cordoned: false,
      needsDisruption: false,
    }));
  const ordered = orderMachines(members, pool.spec.rollout?.order?.labelKeys ?? []);
  const specs = pool.spec.rollout?.waves ?? [];
  const groups = resolveWaves(ordered, specs).map((wave) => ({
    spec: wave.spec,
    name: wave.implicit ? (specs.length === 0 ? '(all machines)' : '(remaining)') : (wave.spec.name ?? ''),
    implicit: wave.implicit,
    taken: wave.members,
  }));

  const failed: FailedMachine[] = [];
  const waves = groups.map((group, index): WaveProgress => {
    const counts: Record<MachineProgress, number> = { Updated: 0, Updating: 0, Failed: 0, Pending: 0 };
    for (const { machine, name } of group.taken) {
      const progress = machineProgress(machine, target);
      counts[progress]++;
      if (progress === 'Failed') failed.push({ name, message: failureMessageOf(machine) });
    }
    return {
      index,
      name: group.name,
      implicit: group.implicit,
      machines: group.taken.length,
      updated: counts.Updated,
      updating: counts.Updating,
      failed: counts.Failed,
      pending: counts.Pending,
      pauseAfter: group.spec.pauseAfter === true,
      bakeSeconds: group.spec.bakeSeconds ?? 0,
    };
  });
  return { waves, failed };
}
