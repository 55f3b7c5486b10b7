/**
 * Connects and runs one parsed command. Kept apart from cli.ts so that --help
 * and usage errors answer without loading the Kubernetes client (about a
 * second of start-up).
 */
import type { CommandFlags, Verb } from './command-line.ts';
import { clusterBackupCommand, clusterRestoreCommand } from './commands/cluster-backup-commands.ts';
import { clusterGet, clusterKubeconfig, clusterList } from './commands/cluster-commands.ts';
import { clusterPlan } from './commands/cluster-plan-commands.ts';
import { clusterRolloutPlan } from './commands/clusterrollout-commands.ts';
import type { CommandIo } from './commands/io.ts';
import { machineBootstrapCommand, machineDescribe } from './commands/machine-commands.ts';
import {
  nodePoolPause,
  nodePoolResume,
  nodePoolRollback,
  nodePoolStatus,
} from './commands/nodepool-commands.ts';
import { nodePoolPlan } from './commands/nodepool-plan-command.ts';
import { watchNodePoolStatus } from './commands/nodepool-watch.ts';
import { whyClusterCommand, whyMachineCommand, whyNodePoolCommand } from './commands/why-commands.ts';
import { connect } from './kube-connection.ts';

export async function runCommand(
  verb: Verb,
  name: string,
  flags: CommandFlags,
  io: CommandIo,
): Promise<void> {
  const connection = connect(flags);
  try {
    switch (verb) {
      case 'cluster list':
        return await clusterList(connection, flags, io);
      case 'cluster get':
        return await clusterGet(connection, name, flags, io);
      case 'cluster plan':
        return await clusterPlan(connection, name, flags, io);
      case 'cluster kubeconfig':
        return await clusterKubeconfig(connection, name, io);
      case 'cluster backup':
        return await clusterBackupCommand(connection, name, flags, io);
      case 'cluster restore':
        return await clusterRestoreCommand(connection, flags, io);
      case 'nodepool status':
        return flags.watch
          ? await watchNodePoolStatus(connection, name, io)
          : await nodePoolStatus(connection, name, flags, io);
      case 'nodepool plan':
        return await nodePoolPlan(connection, name, flags, io);
      case 'nodepool pause':
        return await nodePoolPause(connection, name, flags, io);
      case 'nodepool resume':
        return await nodePoolResume(connection, name, flags, io);
      case 'nodepool rollback':
        return await nodePoolRollback(connection, name, flags, io);
      case 'machine describe':
        return await machineDescribe(connection, name, flags, io);
      case 'machine bootstrap':
        return await machineBootstrapCommand(connection, name, flags, io);
      case 'clusterrollout plan':
        return await clusterRolloutPlan(connection, name, flags, io);
      case 'why machine':
        return await whyMachineCommand(connection, name, flags, io);
      case 'why nodepool':
        return await whyNodePoolCommand(connection, name, flags, io);
      case 'why cluster':
        return await whyClusterCommand(connection, name, flags, io);
    }
  } finally {
    connection.client.close();
  }
}
