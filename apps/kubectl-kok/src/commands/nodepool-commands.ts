/** nodepool status <name> [-w] | pause <name> | resume <name> | rollback <name> */
import { findCondition, Labels, NodePoolConditions, NodePoolResource } from '@kok/api';
import { isConflict, PatchType } from '@kok/reconcile';
import { explainApiError } from '../api-error-messages.ts';
import { CommandError } from '../cli-errors.ts';
import type { CommandFlags } from '../command-line.ts';
import type { Connection } from '../kube-connection.ts';
import { nodePoolStatusView } from '../nodepool-status.ts';
import { controllerRevisionType, machineType, nodePoolType } from '../resources.ts';
import type { MachineObject, NodePoolObject } from '../resources.ts';
import { planRollback } from '../rollback.ts';
import type { StoredRevision } from '../rollback.ts';
import { renderDocument } from '../render/documents.ts';
import { renderNodePoolStatus } from '../render/nodepool-status.ts';
import type { CommandIo } from './io.ts';
import { withoutManagedFields } from './objects.ts';
import { machineTarget, nodePoolTarget } from './targets.ts';

/** `nodepool.nodes.kok.dev/<name>`, how kubectl names an object in its one-line answers. */
function qualifiedName(name: string): string {
  return `${NodePoolResource.singular}.${NodePoolResource.group}/${name}`;
}

async function getPool(connection: Connection, name: string): Promise<NodePoolObject> {
  try {
    return await connection.client.get(nodePoolType, { name });
  } catch (error) {
    throw explainApiError(error, nodePoolTarget(name), connection.server);
  }
}

/**
 * The pool's candidate Machines. A selector's matchLabels narrow the list on
 * the server; membership itself is decided in pool-waves.ts.
 */
export function machineLabelSelector(pool: NodePoolObject): string | undefined {
  const matchLabels = pool.spec.selector?.matchLabels;
  if (!matchLabels || Object.keys(matchLabels).length === 0) return undefined;
  return Object.entries(matchLabels)
    .map(([key, value]) => `${key}=${value}`)
    .join(',');
}

async function listMachines(connection: Connection, pool: NodePoolObject): Promise<MachineObject[]> {
  const labelSelector = machineLabelSelector(pool);
  try {
    const { items } = await connection.client.list(machineType, labelSelector ? { labelSelector } : {});
    return items;
  } catch (error) {
    throw explainApiError(error, machineTarget(), connection.server);
  }
}

export async function nodePoolStatus(
  connection: Connection,
  name: string,
  flags: CommandFlags,
  io: CommandIo,
): Promise<void> {
  const pool = await getPool(connection, name);
  const view = nodePoolStatusView(pool, await listMachines(connection, pool));
  if (flags.output === 'json' || flags.output === 'yaml') io.stdout(renderDocument(view, flags.output));
  else io.stdout(renderNodePoolStatus(view, io.now()));
}

async function setPaused(
  connection: Connection,
  name: string,
  paused: boolean,
  flags: CommandFlags,
  io: CommandIo,
): Promise<void> {
  let pool: NodePoolObject;
  try {
    pool = await connection.client.patch(nodePoolType, { name }, PatchType.merge, { spec: { paused } });
  } catch (error) {
    throw explainApiError(error, nodePoolTarget(name), connection.server);
  }
  if (flags.output === 'json' || flags.output === 'yaml') {
    io.stdout(renderDocument(withoutManagedFields(pool), flags.output));
  } else {
    io.stdout(`${qualifiedName(name)} ${paused ? 'paused' : 'resumed'}\n`);
  }
  const stop = findCondition(pool.status?.conditions, NodePoolConditions.Paused);
  if (!paused && stop?.status === 'True' && stop.reason === 'TooManyFailures')
    io.stderr(
      `note: NodePool "${name}" also stopped because too many machines failed (${stop.message}); resuming does ` +
        `not lift that: roll back with kubectl kok nodepool rollback ${name}, or repair the machines\n`,
    );
}

export function nodePoolPause(connection: Connection, name: string, flags: CommandFlags, io: CommandIo) {
  return setPaused(connection, name, true, flags, io);
}

export function nodePoolResume(connection: Connection, name: string, flags: CommandFlags, io: CommandIo) {
  return setPaused(connection, name, false, flags, io);
}

/** The templates the node-operator stored for the pool (ControllerRevisions labelled with the pool, any namespace). */
async function storedRevisions(connection: Connection, pool: string): Promise<StoredRevision[]> {
  try {
    const { items } = await connection.client.list(controllerRevisionType, {
      labelSelector: `${Labels.pool}=${pool}`,
    });
    return items.map((revision) => ({
      name: revision.metadata?.name ?? '',
      namespace: revision.metadata?.namespace ?? '',
      template: revision.data,
    }));
  } catch (error) {
    throw explainApiError(
      error,
      { kind: 'ControllerRevision', apiVersion: 'apps/v1', plural: 'controllerrevisions' },
      connection.server,
    );
  }
}

export async function nodePoolRollback(
  connection: Connection,
  name: string,
  flags: CommandFlags,
  io: CommandIo,
): Promise<void> {
  const pool = await getPool(connection, name);
  const plan = planRollback(pool, await storedRevisions(connection, name), {
    ...(flags.toRevision === undefined ? {} : { toRevision: flags.toRevision }),
    resume: flags.resume,
  });
  if (plan.kind === 'nothing-to-do') {
    io.stdout(
      `${qualifiedName(name)} already has the template of revision ${plan.revision}; nothing to roll back\n`,
    );
    return;
  }
  let patched: NodePoolObject;
  try {
    patched = await connection.client.patch(nodePoolType, { name }, PatchType.merge, plan.patch);
  } catch (error) {
    if (isConflict(error))
      throw new CommandError(
        `NodePool "${name}" changed while the rollback was being prepared; look at it again ` +
          `(kubectl kok nodepool status ${name}) and rerun the rollback`,
      );
    throw explainApiError(error, nodePoolTarget(name), connection.server);
  }
  if (flags.output === 'json' || flags.output === 'yaml') {
    io.stdout(renderDocument(withoutManagedFields(patched), flags.output));
  } else {
    io.stdout(
      `${qualifiedName(name)} rolled back: spec.template is revision ${plan.toRevision} again (was ${plan.fromRevision})\n`,
    );
  }
  if (patched.spec.paused === true)
    io.stderr(
      `note: NodePool "${name}" is paused, so no machine moves back yet; resume it with: ` +
        `kubectl kok nodepool resume ${name} (or roll back with --resume)\n`,
    );
}
