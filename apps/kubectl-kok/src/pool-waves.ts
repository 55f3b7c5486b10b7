/**
 * The waves of a NodePool rollout with the machines each one holds, so
 * `nodepool status` can show progress per wave. NodePool status keeps only
 * pool-wide counts (it must stay small at 10,000 machines), so the waves are
 * worked out here from the spec and the Machines, with the planner's rules
 * (libs/rollout README): machines in rollout order (orderMachines), waves
 * cumulative, `count`/`percent` (rounded up) growing the rolled-out set,
 * `selector` adding its matches, and a last implicit wave for the rest.
 *
 * Machine labels are what is read here; the node-operator also reads the Node's
 * labels, so wave selectors or order keys that exist only on Nodes can place
 * a machine differently than shown.
 */
import { isNodePoolMember } from '@kok/api';
import type { Machine, NodePool, Wave } from '@kok/api';
import { matchesSelector, orderMachines } from '@kok/rollout';
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
      // Only name and labels matter for ordering; the rest is filled in to satisfy the type.
      ready: true,
      cordoned: false,
      needsDisruption: false,
    }));
  const ordered = orderMachines(members, pool.spec.rollout?.order?.labelKeys ?? []);
  const specs = pool.spec.rollout?.waves ?? [];
  const covered = new Set<string>();
  const groups = specs.map((spec) => {
    const uncovered = ordered.filter((m) => !covered.has(m.name));
    const taken = waveMembers(spec, uncovered, ordered.length, covered.size);
    for (const m of taken) covered.add(m.name);
    return { spec: spec as Partial<Wave>, name: spec.name, implicit: false, taken };
  });
  const remaining = ordered.filter((m) => !covered.has(m.name));
  if (specs.length === 0 || remaining.length > 0) {
    groups.push({
      spec: {},
      name: specs.length === 0 ? '(all machines)' : '(remaining)',
      implicit: true,
      taken: remaining,
    });
  }

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

function waveMembers(spec: Wave, uncovered: Ordered[], poolSize: number, coveredSoFar: number): Ordered[] {
  if (spec.selector) {
    const selector = spec.selector;
    return uncovered.filter((m) => matchesSelector(m.labels, selector));
  }
  // Cumulative sizes; a percentage is rounded up so a small one still makes a canary of one machine.
  const size = spec.count ?? Math.ceil((poolSize * (spec.percent ?? 100)) / 100);
  return uncovered.slice(0, Math.max(0, size - coveredSoFar));
}
