import type { KubernetesObject } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { ClusterResource } from './cluster.ts';
import { ClusterRolloutResource } from './cluster-rollout.ts';
import { ComponentResource } from './component.ts';
import type { KindAddress } from './kinds.ts';
import {
  clusterRolloutType,
  clusterType,
  componentType,
  machineType,
  nodePoolType,
  remediationPolicyType,
} from './kinds.ts';
import { MachineResource } from './machine.ts';
import { NodePoolResource } from './node-pool.ts';
import { RemediationPolicyResource } from './remediation-policy.ts';
import type { ResourceDefinition } from './resource.ts';
import { apiVersionOf } from './resource.ts';

describe('kind addresses', () => {
  it.each<[KindAddress<KubernetesObject>, ResourceDefinition]>([
    [clusterType, ClusterResource],
    [clusterRolloutType, ClusterRolloutResource],
    [componentType, ComponentResource],
    [machineType, MachineResource],
    [nodePoolType, NodePoolResource],
    [remediationPolicyType, RemediationPolicyResource],
  ])('%o is where the CRD serves its kind', (address, resource) => {
    expect(address).toEqual({
      apiVersion: apiVersionOf(resource),
      kind: resource.kind,
      plural: resource.plural,
      namespaced: resource.scope === 'Namespaced',
    });
  });
});
