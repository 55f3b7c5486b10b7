/** why machine <name> | why nodepool <name> | why cluster <name> */
import { isNotFound } from '@kok/reconcile';
import { explainApiError } from '../api-error-messages.ts';
import type { CommandFlags } from '../command-line.ts';
import type { Connection } from '../kube-connection.ts';
import { clusterType, machineType, nodePoolType } from '../resources.ts';
import type { MachineObject, NodePoolObject } from '../resources.ts';
import { renderDocument } from '../render/documents.ts';
import { renderWhy } from '../render/why.ts';
import { whyCluster, whyMachine, whyNodePool } from '../why.ts';
import type { WhyAnswer } from '../why.ts';
import type { CommandIo } from './io.ts';
import { machineLabelSelector } from './nodepool-commands.ts';
import { clusterTarget, machineTarget, nodePoolTarget } from './targets.ts';

function print(answer: WhyAnswer, flags: CommandFlags, io: CommandIo): void {
  if (flags.output === 'json' || flags.output === 'yaml') io.stdout(renderDocument(answer, flags.output));
  else io.stdout(renderWhy(answer, io.now()));
}

export async function whyMachineCommand(
  connection: Connection,
  name: string,
  flags: CommandFlags,
  io: CommandIo,
): Promise<void> {
  let machine: MachineObject;
  try {
    machine = await connection.client.get(machineType, { name });
  } catch (error) {
    throw explainApiError(error, machineTarget(name), connection.server);
  }
  const poolName = machine.spec?.pool;
  let pool: NodePoolObject | undefined;
  if (poolName) {
    try {
      pool = await connection.client.get(nodePoolType, { name: poolName });
    } catch (error) {
      // A Machine may name a pool that is gone; the answer says so.
      if (!isNotFound(error)) throw explainApiError(error, nodePoolTarget(poolName), connection.server);
    }
  }
  print(whyMachine(machine, pool, io.now()), flags, io);
}

export async function whyNodePoolCommand(
  connection: Connection,
  name: string,
  flags: CommandFlags,
  io: CommandIo,
): Promise<void> {
  let pool: NodePoolObject;
  let machines: MachineObject[];
  try {
    pool = await connection.client.get(nodePoolType, { name });
  } catch (error) {
    throw explainApiError(error, nodePoolTarget(name), connection.server);
  }
  try {
    const labelSelector = machineLabelSelector(pool);
    ({ items: machines } = await connection.client.list(machineType, labelSelector ? { labelSelector } : {}));
  } catch (error) {
    throw explainApiError(error, machineTarget(), connection.server);
  }
  print(whyNodePool(pool, machines, io.now()), flags, io);
}

export async function whyClusterCommand(
  connection: Connection,
  name: string,
  flags: CommandFlags,
  io: CommandIo,
): Promise<void> {
  let cluster;
  try {
    cluster = await connection.client.get(clusterType, { namespace: connection.namespace, name });
  } catch (error) {
    throw explainApiError(error, clusterTarget(name, connection.namespace), connection.server);
  }
  print(whyCluster(cluster), flags, io);
}
