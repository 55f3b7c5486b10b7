import type { MachineSpec, NodePoolSpec, NodePoolTemplate } from '@kok/api';

export type DisruptionPolicy = NonNullable<NodePoolSpec['disruptionPolicy']>;
type Action = NonNullable<DisruptionPolicy['defaultAction']>;

/** Actions that take workloads off the node first, so the rollout cordons and drains before the change. */
const DRAINING_ACTIONS: ReadonlySet<Action> = new Set(['Drain']);

/** The action of `defaultAction` when the policy does not set it (the CRD default). */
export const DEFAULT_DISRUPTION_ACTION: Action = 'Drain';

/**
 * The actions moving a machine from what its spec says now to `target` costs,
 * one per changed component or file (removed ones included), as the pool's
 * disruptionPolicy prices them.
 */
export function changeActions(
  current: Pick<MachineSpec, 'components' | 'files'>,
  target: NodePoolTemplate,
  policy: DisruptionPolicy | undefined,
): Action[] {
  const fallback = policy?.defaultAction ?? DEFAULT_DISRUPTION_ACTION;
  const componentAction = new Map((policy?.components ?? []).map((c) => [c.name, c.action]));
  const fileAction = new Map((policy?.files ?? []).map((f) => [f.path, f.action]));
  const actions: Action[] = [];

  const currentVersions = new Map((current.components ?? []).map((c) => [c.name, c.version]));
  const targetVersions = new Map((target.components ?? []).map((c) => [c.name, c.version]));
  for (const name of new Set([...currentVersions.keys(), ...targetVersions.keys()])) {
    if (currentVersions.get(name) !== targetVersions.get(name))
      actions.push(componentAction.get(name) ?? fallback);
  }

  const currentFiles = new Map((current.files ?? []).map((f) => [f.path, fileIdentity(f)]));
  const targetFiles = new Map((target.files ?? []).map((f) => [f.path, fileIdentity(f)]));
  for (const path of new Set([...currentFiles.keys(), ...targetFiles.keys()])) {
    if (currentFiles.get(path) !== targetFiles.get(path)) actions.push(fileAction.get(path) ?? fallback);
  }
  return actions;
}

/** Moving to `target` needs the node drained first (some change is priced Drain). */
export function needsDisruption(
  current: Pick<MachineSpec, 'components' | 'files'>,
  target: NodePoolTemplate,
  policy: DisruptionPolicy | undefined,
): boolean {
  return changeActions(current, target, policy).some((action) => DRAINING_ACTIONS.has(action));
}

function fileIdentity(file: NonNullable<MachineSpec['files']>[number]): string {
  return JSON.stringify([
    file.content ?? null,
    file.secretRef ?? null,
    file.configMapRef ?? null,
    file.mode ?? null,
  ]);
}
