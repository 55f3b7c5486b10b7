/**
 * A NodePool template checked against the Component catalog before the
 * rollout tells any machine its revision: every component must be a
 * Component that lists the version and is Accepted. Otherwise every host
 * would find out on its own (the agent's VersionNotFound), and the rollout
 * would stall at its progress deadline or spend its failure budget. Pure.
 *
 * The check is level-based: it judges the pool's target revision against the
 * catalog as it is now, on every pass. So a version removed from the catalog
 * in the middle of a rollout holds that rollout as a typo would: no further
 * machine is told it, and it carries on by itself once the version is listed
 * again or the template moves to one that is. Removing a version is how an SRE
 * withdraws it, so spreading it further would be the surprise. Machines
 * already told the revision keep it: the operator takes nothing back for a
 * catalog edit (the agent never removes a component the catalog lacks), but
 * their agents report VersionNotFound, so past the progress deadline they
 * count as failed and the failure budget decides (stop, or autoRollback), as
 * for any failure. A rollback to the last good revision is never held: it
 * tells no machine the target, and stopping it would leave failed machines
 * where they are.
 */
import type { Component, NodePoolTemplate } from '@kok/api';
import { listNames } from '@kok/rollout';
import type { RolloutPlan } from '@kok/rollout';
import { acceptanceOf } from '../shared/component-acceptance.ts';

export const CATALOG_REASONS = {
  componentNotFound: 'ComponentNotFound',
  versionNotFound: 'VersionNotFound',
  componentNotAccepted: 'ComponentNotAccepted',
} as const;

export type CatalogReason = (typeof CATALOG_REASONS)[keyof typeof CATALOG_REASONS];

export interface CatalogProblem {
  reason: CatalogReason;
  /** The template's component and version. */
  component: string;
  version: string;
  message: string;
}

/** Why the pool starts nothing: the reason its Paused and Degraded conditions carry, and what to fix. */
export interface PoolHold {
  reason: string;
  message: string;
}

/** What is wrong with each of `template`'s components, in template order; empty when all are usable. */
export function templateCatalogProblems(
  template: NodePoolTemplate,
  lookup: (name: string) => Component | undefined,
): CatalogProblem[] {
  const problems: CatalogProblem[] = [];
  for (const { name, version } of template.components ?? []) {
    const ref = `${name} ${version}`;
    const component = lookup(name);
    if (!component) {
      problems.push({
        reason: CATALOG_REASONS.componentNotFound,
        component: name,
        version,
        message: `${ref}: there is no Component "${name}"`,
      });
      continue;
    }
    if (!component.spec.versions.some((v) => v.version === version)) {
      const known = listNames(component.spec.versions.map((v) => v.version));
      problems.push({
        reason: CATALOG_REASONS.versionNotFound,
        component: name,
        version,
        message: `${ref}: Component "${name}" lists no version ${version} (it has ${known})`,
      });
      continue;
    }
    const acceptance = acceptanceOf(component);
    if (acceptance.status !== 'True')
      problems.push({
        reason: CATALOG_REASONS.componentNotAccepted,
        component: name,
        version,
        message: `${ref}: Component "${name}" is not Accepted (${acceptance.reason}: ${acceptance.message ?? ''})`,
      });
  }
  return problems;
}

/** The hold for `problems` of `pool`'s `revision`, or undefined when there are none. */
export function catalogHold(
  pool: string,
  revision: string,
  problems: readonly CatalogProblem[],
): PoolHold | undefined {
  const [first] = problems;
  if (!first) return undefined;
  return {
    reason: first.reason,
    message:
      `NodePool ${JSON.stringify(pool)} holds revision ${revision}, its template names what the Component catalog does not offer: ` +
      `${problems.map((p) => p.message).join('; ')}; no machine is told this revision until the catalog or the template is fixed`,
  };
}

/** Stops that already tell no machine the target; the catalog hold leaves them (and their reasons) as they are. */
const STOPS_WITHOUT_TARGET = new Set(['FailureBudgetExceeded', 'RolledBack', 'InvalidSpec']);

/**
 * Whether a catalog hold changes `plan`: not when every machine already runs
 * the target (nothing is left to tell), nor when the plan is a stop or a
 * rollback that tells no machine the target anyway.
 */
export function catalogHoldApplies(plan: RolloutPlan): boolean {
  return !plan.complete && !(plan.pause !== undefined && STOPS_WITHOUT_TARGET.has(plan.pause.reason));
}
