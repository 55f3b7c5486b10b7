/**
 * NetworkPolicies that isolate a Cluster's control-plane pods from the rest of
 * the meta-cluster: etcd takes clients only from its apiservers and this
 * operator (which reads and changes its members) and peers only from its members; the apiserver is the Cluster's endpoint and takes
 * its port from anywhere; the controller-manager, the scheduler and the
 * node-operator serve only health and metrics, to namespaces labelled
 * `clusters.kok.dev/monitoring=true`. Ports are named as in the pod templates.
 * The CNI enforces them; without a NetworkPolicy implementation they are inert.
 */
import { CLUSTER_COMPONENTS } from '@kok/api';
import type { KubernetesObject, V1LabelSelector, V1NetworkPolicyPeer } from '@kubernetes/client-node';
import type { ComponentLabel } from '../names.ts';
import { selectorLabels } from '../names.ts';
import { contentHash, templateHashDiffers, withTemplateHash } from '../template-hash.ts';
import type { ControlPlaneComponent, RenderContext } from './component.ts';
import { objectsStatus, ownedMetadata } from './component.ts';

/** Bump to rewrite every Cluster's NetworkPolicies on purpose. */
const TEMPLATE_VERSION = 1;

/** On a namespace of the meta-cluster: its pods may scrape every Cluster's health and metrics ports. */
export const MONITORING_NAMESPACE_LABEL = 'clusters.kok.dev/monitoring';

/**
 * A NetworkPolicy as the apiserver reads it: client-node's model spells `from`
 * as `_from` for its own serializer, and objects here go out as plain JSON.
 */
export interface NetworkPolicy extends KubernetesObject {
  spec: {
    podSelector: V1LabelSelector;
    policyTypes: ['Ingress'];
    ingress: IngressRule[];
  };
}

export interface IngressRule {
  /** Absent: from anywhere. */
  from?: V1NetworkPolicyPeer[];
  ports: { port: string; protocol: 'TCP' }[];
}

const monitoring: V1NetworkPolicyPeer = {
  namespaceSelector: { matchLabels: { [MONITORING_NAMESPACE_LABEL]: 'true' } },
};

/**
 * This operator's pods, as its chart labels them, in whichever namespace it was installed: it dials
 * etcd's member API (etcd/member-api.ts). etcd still asks them for a client certificate of its CA.
 */
const operatorPods: V1NetworkPolicyPeer = {
  namespaceSelector: {},
  podSelector: { matchLabels: { 'app.kubernetes.io/name': 'kube-on-kube-operator' } },
};

const tcp = (...ports: string[]) => ports.map((port) => ({ port, protocol: 'TCP' as const }));

function policy(
  ctx: RenderContext,
  name: string,
  component: ComponentLabel,
  ingress: IngressRule[],
): NetworkPolicy {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: ownedMetadata(ctx, name, component),
    spec: {
      podSelector: { matchLabels: selectorLabels(ctx.names.cluster, component) },
      // Ingress only: the control plane dials out to webhooks, the node tier and kubelets anywhere.
      policyTypes: ['Ingress'],
      ingress,
    },
  };
}

export function renderNetworkPolicies(ctx: RenderContext): NetworkPolicy[] {
  const { names } = ctx;
  // A peer without a namespaceSelector is a pod of the policy's own namespace: the Cluster's.
  const podsOf = (component: ComponentLabel): V1NetworkPolicyPeer => ({
    podSelector: { matchLabels: selectorLabels(names.cluster, component) },
  });
  const etcdPolicy = policy(ctx, names.etcd, 'etcd', [
    { from: [podsOf('kube-apiserver'), podsOf('etcd'), operatorPods], ports: tcp('client') },
    { from: [podsOf('etcd')], ports: tcp('peer') },
    { from: [monitoring], ports: tcp('metrics') },
  ]);
  const policies = [
    // An external etcd has no pods here to guard.
    ...(ctx.cluster.etcd.external ? [] : [etcdPolicy]),
    policy(ctx, names.apiServer, 'kube-apiserver', [{ ports: tcp('https') }]),
    policy(ctx, names.controllerManager, 'kube-controller-manager', [
      { from: [monitoring], ports: tcp('https') },
    ]),
    policy(ctx, names.scheduler, 'kube-scheduler', [{ from: [monitoring], ports: tcp('https') }]),
    policy(ctx, names.nodeOperator, 'node-operator', [{ from: [monitoring], ports: tcp('metrics') }]),
  ];
  const hash = contentHash({ TEMPLATE_VERSION, policies: policies.map((p) => [p.metadata?.name, p.spec]) });
  return policies.map((p) => withTemplateHash(p, hash));
}

export const networkPolicies: ControlPlaneComponent = {
  ...CLUSTER_COMPONENTS.networkPolicies,
  render: renderNetworkPolicies,
  needsUpdate: templateHashDiffers,
  status: (observed, desired) => objectsStatus('NetworkPolicies', observed, desired, templateHashDiffers),
};
