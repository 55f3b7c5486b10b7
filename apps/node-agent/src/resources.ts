/** The kinds the agent reads and writes, addressed for the libs/reconcile client. */
import type { Component, Machine, NodePool } from '@kok/api';
import { API_VERSION_V1ALPHA1, NODES_GROUP } from '@kok/api/core';
import type { KubernetesObject } from '@kubernetes/client-node';
import type { ResourceType } from '@kok/reconcile';
import { resourceType } from '@kok/reconcile';

const apiVersion = `${NODES_GROUP}/${API_VERSION_V1ALPHA1}`;

export type MachineObject = Machine & KubernetesObject;
export type ComponentObject = Component & KubernetesObject;
export type NodePoolObject = NodePool & KubernetesObject;

export const machineType: ResourceType<MachineObject> = resourceType(
  apiVersion,
  'Machine',
  'machines',
  false,
);
export const componentType: ResourceType<ComponentObject> = resourceType(
  apiVersion,
  'Component',
  'components',
  false,
);
export const nodePoolType: ResourceType<NodePoolObject> = resourceType(
  apiVersion,
  'NodePool',
  'nodepools',
  false,
);
