/**
 * How `kubectl kok nodepool rollback` asks for a rollback: like `kubectl
 * rollout undo`, it writes the template of the revision to go back to into
 * spec.template. The node-operator needs nothing new for that: the template's
 * revision becomes the one it rolls out, and every machine is brought back to
 * it under the same waves and disruption budget as any rollout. The templates
 * of past revisions are the ones the node-operator keeps as ControllerRevisions
 * named `<pool>-<revision>`. Pure: the pool and the stored revisions in, the
 * merge patch out.
 */
import { revisionName, templateRevision } from '@kok/api';
import type { NodePool, NodePoolTemplate } from '@kok/api';
import { mergePatchBetween } from '@kok/reconcile';
import { CommandError } from './cli-errors.ts';

/** A ControllerRevision of a pool, reduced to what a rollback reads. */
export interface StoredRevision {
  name: string;
  namespace: string;
  /** The rendered template (ControllerRevision `data`). */
  template: unknown;
}

export type RollbackPlan =
  | { kind: 'nothing-to-do'; revision: string }
  | {
      kind: 'patch';
      fromRevision: string;
      toRevision: string;
      /** JSON merge patch with a resourceVersion precondition: it fails if the pool changed since it was read. */
      patch: Record<string, unknown>;
    };

export interface RollbackOptions {
  /** Go back to this revision. Default: status.currentRevision, the last good one. */
  toRevision?: string;
  /** Clear spec.paused in the same write. Default false. */
  resume?: boolean;
}

export function planRollback(
  pool: NodePool,
  revisions: readonly StoredRevision[],
  options: RollbackOptions = {},
): RollbackPlan {
  const name = pool.metadata?.name ?? '';
  const to = options.toRevision ?? pool.status?.currentRevision;
  if (to === undefined)
    throw new CommandError(
      `NodePool "${name}" has no last good revision (status.currentRevision is empty): no rollout has ` +
        `completed yet, so there is nothing to roll back to. Stop the rollout with: kubectl kok nodepool pause ${name}`,
    );
  const from = templateRevision(pool.spec.template);
  if (from === to && !(options.resume && pool.spec.paused === true))
    return { kind: 'nothing-to-do', revision: to };

  const wanted = revisionName(name, to);
  const stored = revisions.find((revision) => revision.name === wanted);
  if (!stored)
    throw new CommandError(
      `no stored template for revision ${to} of NodePool "${name}": the node-operator keeps past templates ` +
        `as ControllerRevisions named ${wanted}; see which exist with: ` +
        `kubectl get controllerrevisions -A -l nodes.kok.dev/pool=${name}`,
    );
  if (!isTemplate(stored.template) || templateRevision(stored.template) !== to)
    throw new CommandError(
      `ControllerRevision ${stored.namespace}/${stored.name} does not hold the template of revision ${to}; ` +
        'refusing to write it into the pool',
    );
  const templatePatch = mergePatchBetween(pool.spec.template, stored.template);
  const spec: Record<string, unknown> = {};
  if (templatePatch) spec.template = templatePatch;
  if (options.resume && pool.spec.paused === true) spec.paused = false;
  return {
    kind: 'patch',
    fromRevision: from,
    toRevision: to,
    patch: { metadata: { resourceVersion: pool.metadata?.resourceVersion }, spec },
  };
}

function isTemplate(value: unknown): value is NodePoolTemplate {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
