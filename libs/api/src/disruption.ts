/**
 * What moving a machine to a pool template costs it, as the pool's
 * disruptionPolicy prices each change. The node-operator decides from it
 * whether to drain first; kubectl kok nodepool plan shows it.
 */
import type { MachineSpec } from './machine.ts';
import type { NodePoolSpec, NodePoolTemplate } from './node-pool.ts';

export type DisruptionPolicy = NonNullable<NodePoolSpec['disruptionPolicy']>;
export type DisruptionAction = NonNullable<DisruptionPolicy['defaultAction']>;

/** Actions that take workloads off the node first, so the rollout cordons and drains before the change. */
const DRAINING_ACTIONS: ReadonlySet<DisruptionAction> = new Set(['Drain']);

/** The action of `defaultAction` when the policy does not set it (the CRD default). */
export const DEFAULT_DISRUPTION_ACTION: DisruptionAction = 'Drain';

/** From least to most disruptive. */
const ACTION_WEIGHT: Readonly<Record<DisruptionAction, number>> = {
  None: 0,
  Reload: 1,
  Restart: 2,
  Drain: 3,
};

/** One changed component or file (added, changed or removed) and the action the policy prices it at. */
export interface MachineChange {
  kind: 'component' | 'file';
  /** Component name or file path. */
  name: string;
  /** Component version before, or undefined when it is added (files: undefined). */
  from?: string;
  /** Component version after, or undefined when it is removed (files: undefined). */
  to?: string;
  /** For files: whether the file is added, changed or removed. */
  fileChange?: 'added' | 'changed' | 'removed';
  action: DisruptionAction;
}

/**
 * Every change moving a machine from what its spec says now to `target`, one
 * per changed component or file (removed ones included), components first,
 * each in name order, priced by the pool's disruptionPolicy.
 */
export function machineChanges(
  current: Pick<MachineSpec, 'components' | 'files'>,
  target: NodePoolTemplate,
  policy: DisruptionPolicy | undefined,
): MachineChange[] {
  const fallback = policy?.defaultAction ?? DEFAULT_DISRUPTION_ACTION;
  const componentAction = new Map((policy?.components ?? []).map((c) => [c.name, c.action]));
  const fileAction = new Map((policy?.files ?? []).map((f) => [f.path, f.action]));
  const changes: MachineChange[] = [];

  const currentVersions = new Map((current.components ?? []).map((c) => [c.name, c.version]));
  const targetVersions = new Map((target.components ?? []).map((c) => [c.name, c.version]));
  for (const name of [...new Set([...currentVersions.keys(), ...targetVersions.keys()])].sort()) {
    const from = currentVersions.get(name);
    const to = targetVersions.get(name);
    if (from === to) continue;
    changes.push({
      kind: 'component',
      name,
      ...(from === undefined ? {} : { from }),
      ...(to === undefined ? {} : { to }),
      action: componentAction.get(name) ?? fallback,
    });
  }

  const currentFiles = new Map((current.files ?? []).map((f) => [f.path, fileIdentity(f)]));
  const targetFiles = new Map((target.files ?? []).map((f) => [f.path, fileIdentity(f)]));
  for (const path of [...new Set([...currentFiles.keys(), ...targetFiles.keys()])].sort()) {
    const before = currentFiles.get(path);
    const after = targetFiles.get(path);
    if (before === after) continue;
    const fileChange = before === undefined ? 'added' : after === undefined ? 'removed' : 'changed';
    changes.push({ kind: 'file', name: path, fileChange, action: fileAction.get(path) ?? fallback });
  }
  return changes;
}

/** The actions of `machineChanges`, in the same order. */
export function changeActions(
  current: Pick<MachineSpec, 'components' | 'files'>,
  target: NodePoolTemplate,
  policy: DisruptionPolicy | undefined,
): DisruptionAction[] {
  return machineChanges(current, target, policy).map((change) => change.action);
}

/** Moving to `target` needs the node drained first (some change is priced Drain). */
export function needsDisruption(
  current: Pick<MachineSpec, 'components' | 'files'>,
  target: NodePoolTemplate,
  policy: DisruptionPolicy | undefined,
): boolean {
  return changeActions(current, target, policy).some((action) => DRAINING_ACTIONS.has(action));
}

/** The most disruptive of `actions` (what the machine undergoes as a whole), or undefined for none. */
export function heaviestAction(actions: readonly DisruptionAction[]): DisruptionAction | undefined {
  let heaviest: DisruptionAction | undefined;
  for (const action of actions)
    if (heaviest === undefined || ACTION_WEIGHT[action] > ACTION_WEIGHT[heaviest]) heaviest = action;
  return heaviest;
}

function fileIdentity(file: NonNullable<MachineSpec['files']>[number]): string {
  return JSON.stringify([
    file.content ?? null,
    file.secretRef ?? null,
    file.configMapRef ?? null,
    file.mode ?? null,
  ]);
}
