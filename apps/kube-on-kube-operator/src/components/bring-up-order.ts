/**
 * A cluster's life on one screen: the components in bring-up order. Each one
 * is written only once everything it depends on (transitively) is Available
 * at the desired version; teardown walks the list backwards.
 */
import type { ControlPlaneComponent } from './component.ts';
import { etcd } from './etcd.ts';
import { apiServer } from './kube-apiserver.ts';
import { controllerManager } from './kube-controller-manager.ts';
import { scheduler } from './kube-scheduler.ts';
import { networkPolicies } from './network-policies.ts';
import { nodeOperator } from './node-operator.ts';
import { pki } from './pki.ts';
import { services } from './services.ts';

export const controlPlaneComponents: readonly ControlPlaneComponent[] = [
  services, //          etcd peers and clients, the apiserver endpoint (its address goes into certificates)
  networkPolicies, //   who may reach which control-plane pod, in place before any pod runs
  pki, //               CAs, service-account keys, certificates, kubeconfigs
  etcd, //              a quorum of members at the desired etcd version
  apiServer, //         at the desired version before anything newer talks to it
  controllerManager, // then the controllers and the scheduler, side by side
  scheduler,
];

/**
 * Then the node tier (node-api/node-tier.ts), which never holds the control
 * plane: once the apiserver is Available, the nodes.kok.dev API is installed
 * in the biz-cluster, then the node-operator runs against it.
 */
export const nodeTierComponents: readonly ControlPlaneComponent[] = [nodeOperator];
