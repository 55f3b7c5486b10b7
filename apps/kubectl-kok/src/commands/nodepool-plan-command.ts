/** nodepool plan <name> (-f FILE | --set component=version …): what applying it would do; writes nothing. */
import { readFileSync } from 'node:fs';
import type { NodePool } from '@kok/api';
import { builtinTypes } from '@kok/reconcile';
import type { V1Node } from '@kubernetes/client-node';
import { explainApiError } from '../api-error-messages.ts';
import { CommandError } from '../cli-errors.ts';
import type { CommandFlags } from '../command-line.ts';
import type { Connection } from '../kube-connection.ts';
import { planNodePool } from '../nodepool-plan.ts';
import { poolFromFile, poolWithVersions } from '../proposed-pool.ts';
import { machineType, nodePoolType } from '../resources.ts';
import type { MachineObject, NodePoolObject } from '../resources.ts';
import { renderDocument } from '../render/documents.ts';
import { renderNodePoolPlan } from '../render/nodepool-plan.ts';
import type { CommandIo } from './io.ts';
import { machineLabelSelector } from './nodepool-commands.ts';
import { machineTarget, nodePoolTarget } from './targets.ts';

export async function nodePoolPlan(
  connection: Connection,
  name: string,
  flags: CommandFlags,
  io: CommandIo,
): Promise<void> {
  let live: NodePoolObject;
  try {
    live = await connection.client.get(nodePoolType, { name });
  } catch (error) {
    throw explainApiError(error, nodePoolTarget(name), connection.server);
  }
  const proposed =
    flags.filename !== undefined
      ? poolFromFile(live, readProposal(flags.filename), flags.filename === '-' ? 'stdin' : flags.filename)
      : poolWithVersions(live, flags.set ?? []);
  const view = planNodePool({
    live,
    proposed,
    machines: await listMachines(connection, proposed),
    nodes: await nodesByName(connection),
    now: io.now(),
  });
  if (flags.output === 'json' || flags.output === 'yaml') io.stdout(renderDocument(view, flags.output));
  else io.stdout(renderNodePoolPlan(view));
}

function readProposal(file: string): string {
  try {
    // `-f -` reads stdin, as kubectl does.
    return readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (error) {
    throw new CommandError(`cannot read ${file === '-' ? 'stdin' : file}: ${(error as Error).message}`);
  }
}

/** The candidate Machines of the proposed pool (its selector may differ from the live one). */
async function listMachines(connection: Connection, pool: NodePool): Promise<MachineObject[]> {
  const labelSelector = machineLabelSelector({ spec: pool.spec } as NodePoolObject);
  try {
    return (await connection.client.list(machineType, labelSelector ? { labelSelector } : {})).items;
  } catch (error) {
    throw explainApiError(error, machineTarget(), connection.server);
  }
}

/** The Nodes, whose readiness, cordon, conditions and labels the node-operator plans by. */
async function nodesByName(connection: Connection): Promise<Map<string, V1Node>> {
  try {
    const { items } = await connection.client.list(builtinTypes.node, {});
    return new Map(items.map((node) => [node.metadata?.name ?? '', node]));
  } catch (error) {
    throw explainApiError(error, { kind: 'Node', apiVersion: 'v1', plural: 'nodes' }, connection.server);
  }
}
