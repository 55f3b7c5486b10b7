/** machine describe <name> */
import { explainApiError } from '../api-error-messages.ts';
import type { CommandFlags } from '../command-line.ts';
import type { Connection } from '../kube-connection.ts';
import { describeMachine } from '../machine-description.ts';
import { machineType } from '../resources.ts';
import type { MachineObject } from '../resources.ts';
import { renderDocument } from '../render/documents.ts';
import { renderMachineDescription } from '../render/machine-describe.ts';
import type { CommandIo } from './io.ts';
import { machineTarget } from './targets.ts';

export async function machineDescribe(
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
  const description = describeMachine(machine);
  if (flags.output === 'json' || flags.output === 'yaml')
    io.stdout(renderDocument(description, flags.output));
  else io.stdout(renderMachineDescription(description, io.now()));
}
