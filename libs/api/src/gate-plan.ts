/**
 * The gates: which components may be written now. Pure. A component is
 * written only when everything it depends on, directly or through another
 * component, is Available at the desired version — so an upgrade moves etcd,
 * then the apiserver, then controller-manager and scheduler, and a bring-up
 * never starts a workload whose dependencies are not serving yet.
 */
import type { ClusterComponentName as ComponentName } from './cluster-components.ts';

export interface ComponentObservation {
  name: ComponentName;
  dependsOn: readonly ComponentName[];
  /** Its desired objects could be rendered (their inputs exist). */
  rendered: boolean;
  /** Some desired object is missing or differs from what was written. */
  needsWrite: boolean;
  availableAtDesired: boolean;
}

export interface GatePlan {
  /** Components to write now, in bring-up order. */
  apply: ComponentName[];
  /** Components whose gate is open: every dependency is Available at the desired version. */
  open: ComponentName[];
  /** Components held back, each with the first dependency that holds it. */
  waiting: { name: ComponentName; blockedBy: ComponentName }[];
  /** Every component is Available at the desired version. */
  complete: boolean;
}

/** Every component `name` depends on, directly or not, in bring-up order of discovery. */
export function dependencyClosure(
  name: ComponentName,
  byName: ReadonlyMap<ComponentName, ComponentObservation>,
): ComponentName[] {
  const seen = new Set<ComponentName>();
  const visit = (n: ComponentName) => {
    for (const dependency of byName.get(n)?.dependsOn ?? []) {
      if (seen.has(dependency)) continue;
      seen.add(dependency);
      visit(dependency);
    }
  };
  visit(name);
  return [...seen];
}

export function planGates(observations: readonly ComponentObservation[]): GatePlan {
  const byName = new Map(observations.map((o) => [o.name, o]));
  const plan: GatePlan = { apply: [], open: [], waiting: [], complete: true };
  for (const component of observations) {
    if (!component.availableAtDesired) plan.complete = false;
    // A dependency the list does not know counts as unavailable: fail closed.
    const blockedBy = dependencyClosure(component.name, byName).find(
      (dependency) => !byName.get(dependency)?.availableAtDesired,
    );
    if (blockedBy) {
      if (!component.availableAtDesired) plan.waiting.push({ name: component.name, blockedBy });
      continue;
    }
    plan.open.push(component.name);
    if (component.rendered && component.needsWrite) plan.apply.push(component.name);
  }
  return plan;
}
