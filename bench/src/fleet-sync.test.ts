import { Finalizers, Labels, nodeAgentGrantName } from '@kok/api';
import type { KubernetesObject } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { fleetLag, isSynced, type FleetListing, type ListedMachine, type ListedNode } from './fleet-sync.ts';

const adoptedMachine = (name: string): ListedMachine => ({
  metadata: { name, uid: `uid-${name}`, finalizers: [Finalizers.machine] },
  spec: { pool: 'pool-0' },
  status: { nodeRef: { name }, conditions: [{ type: 'NodeHealthy', status: 'True' }] },
});
const adoptedNode = (name: string): ListedNode => ({
  metadata: { name, labels: { [Labels.pool]: 'pool-0' } },
  status: {
    conditions: [
      { type: 'Ready', status: 'True' },
      { type: 'KokComponentFailed', status: 'False' },
    ],
  },
});
const binding = (machine: string, uid = `uid-${machine}`): KubernetesObject => ({
  metadata: {
    name: nodeAgentGrantName(machine),
    ownerReferences: [{ apiVersion: 'nodes.kok.dev/v1alpha1', kind: 'Machine', name: machine, uid }],
  },
});

/** Two adopted Machines and Nodes; `change` spoils one part of it. */
function listing(change: (l: FleetListing) => void = () => undefined): FleetListing {
  const l: FleetListing = {
    machines: ['a', 'b'].map(adoptedMachine),
    nodes: ['a', 'b'].map(adoptedNode),
    grantBindings: ['a', 'b'].map((m) => binding(m)),
    poolMachines: [2],
    policyExpectedMachines: 2,
  };
  change(l);
  return l;
}
const noLag = fleetLag(listing(), 2);

describe('fleetLag', () => {
  it('finds a fully adopted fleet synced', () => {
    expect(isSynced(noLag)).toBe(true);
  });

  it.each<[string, (l: FleetListing) => void, Partial<typeof noLag>]>([
    [
      'a Machine without the finalizer',
      (l) => delete l.machines[0]?.metadata?.finalizers,
      { machinesWithoutFinalizer: 1 },
    ],
    [
      'a Machine without nodeRef',
      (l) => delete l.machines[1]?.status?.nodeRef,
      { machinesWithoutNodeRef: 1 },
    ],
    [
      'a Machine whose NodeHealthy is not True yet',
      (l) => ((l.machines[0] as ListedMachine).status = { nodeRef: { name: 'a' } }),
      { machinesWithoutNodeHealthy: 1 },
    ],
    [
      'a Node without the pool label',
      (l) => delete l.nodes[0]?.metadata?.labels,
      { nodesWithoutPoolLabel: 1 },
    ],
    [
      'a Node without KokComponentFailed',
      (l) => ((l.nodes[1] as ListedNode).status = { conditions: [{ type: 'Ready', status: 'True' }] }),
      { nodesWithoutComponentCondition: 1 },
    ],
    [
      'a grant bound to an earlier Machine of the name',
      (l) => (l.grantBindings = [binding('a', 'uid-old'), binding('b')]),
      { machinesWithoutAgentGrant: 1 },
    ],
    [
      'a pool status that counts one Machine short',
      (l) => (l.poolMachines = [1]),
      { poolStatusShortfall: 1 },
    ],
    ['a policy status not written yet', (l) => (l.policyExpectedMachines = 0), { policyStatusShortfall: 2 }],
    [
      'a Machine missing from the listing',
      (l) => (l.machines = l.machines.slice(0, 1)),
      {
        machinesWithoutFinalizer: 1,
        machinesWithoutNodeRef: 1,
        machinesWithoutNodeHealthy: 1,
        nodesWithoutPoolLabel: 1,
        nodesWithoutComponentCondition: 1,
        machinesWithoutAgentGrant: 1,
      },
    ],
  ])('counts %s', (_, change, lag) => {
    const result = fleetLag(listing(change), 2);
    expect(result).toEqual({ ...noLag, ...lag });
    expect(isSynced(result)).toBe(false);
  });
});
