/**
 * The machine's routes into a rig (machine-routes.ts) on this machine's own routing table: a
 * "pod" address in a host's namespace answers the machine once the route is there, a route that
 * exists already is never taken over, and removal leaves the table as it was. Nothing is sent to
 * that address without the route: it would leave the machine by its default route.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { realHostSupport } from './host-support.ts';
import { addMachineRoutes, removeMachineRoutes } from './machine-routes.ts';
import { POD_ROUTE_PROTOCOL } from './pod-network.ts';
import type { HostNetwork } from './rig-network.ts';
import { RigNetwork } from './rig-network.ts';
import { system } from './system-command.ts';

const runsHere = realHostSupport().supported || process.env.CI === 'true';
/** A pod CIDR no test rig hands out (theirs are 10.244.0.0/16), with one address on the host. */
const POD_CIDR = '10.250.7.0/24';
const POD_ADDRESS = '10.250.7.1';

/** How a TCP connection to a closed port ends: refused (the address answered) or not in time. */
function dial(address: string): Promise<'refused' | 'unanswered'> {
  return new Promise((resolve) => {
    const socket = connect({ host: address, port: 9, timeout: 3000 });
    socket.once('error', (error: NodeJS.ErrnoException) =>
      resolve(error.code === 'ECONNREFUSED' ? 'refused' : 'unanswered'),
    );
    socket.once('timeout', () => {
      socket.destroy();
      resolve('unanswered');
    });
    socket.once('connect', () => {
      socket.destroy();
      resolve('refused'); // nothing should listen on port 9; the address answered all the same
    });
  });
}

/** The link the machine would send a packet for `address` through (`ip route get`), sending none. */
const linkTowards = async (address: string) =>
  / dev (\S+)/.exec(await system('ip', ['route', 'get', address]))?.[1] ?? '';

const machineRoutesTo = async (cidr: string) =>
  (await system('ip', ['route', 'show', 'match', cidr, 'proto', POD_ROUTE_PROTOCOL])).trim();

describe.runIf(runsHere)("the machine's routes into a rig", () => {
  let network: RigNetwork;
  let host: HostNetwork;

  beforeAll(async () => {
    network = await RigNetwork.create();
    host = await network.addHost(0);
    // An address in the host's namespace outside its own subnet, standing in for a pod's there.
    await system('ip', ['-n', host.namespace, 'addr', 'add', `${POD_ADDRESS}/32`, 'dev', 'lo']);
  });
  afterAll(async () => {
    await network?.destroy();
  });

  it('reaches a pod address through the rig once its route is in place, and removal leaves none', async () => {
    const route = { destination: POD_CIDR, via: host.address };
    expect(await linkTowards(POD_ADDRESS)).not.toBe(network.bridge);

    await addMachineRoutes(network.bridge, [route]);
    expect(await machineRoutesTo(POD_CIDR)).toContain(`via ${host.address} dev ${network.bridge}`);
    expect(await linkTowards(POD_ADDRESS)).toBe(network.bridge);
    expect(await dial(POD_ADDRESS)).toBe('refused');

    expect(await removeMachineRoutes(network.bridge, [route])).toEqual([]);
    expect(await machineRoutesTo(POD_CIDR)).toBe('');
    expect(await linkTowards(POD_ADDRESS)).not.toBe(network.bridge);
  });

  it('never takes over a route that is there already, and undoes what it added before the clash', async () => {
    const first = { destination: '10.250.8.0/24', via: host.address };
    const clash = { destination: POD_CIDR, via: host.address };
    await addMachineRoutes(network.bridge, [clash]);
    await expect(addMachineRoutes(network.bridge, [first, clash])).rejects.toThrow(
      /cannot route 10\.250\.7\.0\/24 via .*File exists/,
    );
    expect(await machineRoutesTo('10.250.8.0/24')).toBe('');
    expect(await machineRoutesTo(POD_CIDR)).not.toBe('');
    await removeMachineRoutes(network.bridge, [clash]);
  });

  it('has nothing to remove once the bridge is gone', async () => {
    const route = { destination: POD_CIDR, via: host.address };
    await addMachineRoutes(network.bridge, [route]);
    await network.destroy();
    expect(await machineRoutesTo(POD_CIDR)).toBe('');
    expect(await removeMachineRoutes(network.bridge, [route])).toEqual([]);
  });
});
