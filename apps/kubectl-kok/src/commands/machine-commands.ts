/** machine describe <name> | bootstrap <name> */
import { createBootstrapToken, DEFAULT_TOKEN_TTL_SECONDS, machineBootstrap } from '@kok/pki';
import type { V1Secret } from '@kubernetes/client-node';
import { explainApiError } from '../api-error-messages.ts';
import type { CommandFlags } from '../command-line.ts';
import type { Connection } from '../kube-connection.ts';
import { apiServerTrust } from '../kube-connection.ts';
import { describeMachine } from '../machine-description.ts';
import { machineType, secretType } from '../resources.ts';
import type { MachineObject } from '../resources.ts';
import { renderDocument } from '../render/documents.ts';
import { renderMachineBootstrap } from '../render/machine-bootstrap.ts';
import { renderMachineDescription } from '../render/machine-describe.ts';
import type { CommandIo } from './io.ts';
import { machineTarget } from './targets.ts';

async function getMachine(connection: Connection, name: string): Promise<MachineObject> {
  try {
    return await connection.client.get(machineType, { name });
  } catch (error) {
    throw explainApiError(error, machineTarget(name), connection.server);
  }
}

export async function machineDescribe(
  connection: Connection,
  name: string,
  flags: CommandFlags,
  io: CommandIo,
): Promise<void> {
  const machine = await getMachine(connection, name);
  const description = describeMachine(machine);
  if (flags.output === 'json' || flags.output === 'yaml')
    io.stdout(renderDocument(description, flags.output));
  else io.stdout(renderMachineDescription(description, io.now()));
}

/**
 * A bootstrap token for the host that is to become Machine `name`, and what to
 * put on that host. The Machine must exist: a token is made for a known
 * machine only. The token Secret goes to kube-system of the cluster the
 * kubeconfig points at (the biz-cluster that holds the Machines).
 */
export async function machineBootstrapCommand(
  connection: Connection,
  name: string,
  flags: CommandFlags,
  io: CommandIo,
): Promise<void> {
  await getMachine(connection, name);
  const trust = apiServerTrust(connection.kubeConfig);
  const ttlSeconds = flags.ttlSeconds ?? DEFAULT_TOKEN_TTL_SECONDS;
  const token = createBootstrapToken({
    ttlSeconds,
    description: `kubelet bootstrap of Machine ${name} (kubectl kok machine bootstrap)`,
    now: io.now(),
  });
  const { name: secretName, namespace = 'kube-system' } = token.secret.metadata;
  try {
    await connection.client.create(secretType, token.secret as V1Secret);
  } catch (error) {
    throw explainApiError(
      error,
      { kind: 'Secret', apiVersion: 'v1', plural: 'secrets', name: secretName, namespace },
      connection.server,
    );
  }
  const bootstrap = machineBootstrap({
    machine: name,
    token: token.token,
    expiresAt: token.expiresAt,
    ...trust,
  });
  if (flags.output === 'json' || flags.output === 'yaml') io.stdout(renderDocument(bootstrap, flags.output));
  else io.stdout(renderMachineBootstrap(bootstrap, { secretName, namespace, ttlSeconds }));
}
