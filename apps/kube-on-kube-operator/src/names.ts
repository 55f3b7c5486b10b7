/**
 * Names and labels of everything the operator creates for a Cluster. One
 * place, so rendering, observing and teardown always agree.
 */
import { Labels } from '@kok/api';

/** The field manager and managed-by label value of this operator. */
export const OPERATOR_NAME = 'kube-on-kube-operator';

/** Components as they appear in labels and object names. */
export type ComponentLabel =
  | 'pki'
  | 'etcd'
  | 'etcd-restore'
  | 'kube-apiserver'
  | 'kube-controller-manager'
  | 'kube-scheduler'
  | 'node-operator';

export interface ClusterNames {
  cluster: string;
  namespace: string;
  /** StatefulSet and its headless (peer) Service. */
  etcd: string;
  etcdClientService: string;
  /** DNS name of etcd member `ordinal` through the headless Service. */
  etcdMemberHost(ordinal: number): string;
  /** The volume claim of etcd member `ordinal` (claim template `data`), made by the StatefulSet controller. */
  etcdClaim(ordinal: number): string;
  apiServerService: string;
  /** `<cluster>-apiserver.<ns>.svc`: how pods of the meta-cluster reach the apiserver. */
  apiServerServiceHost: string;
  apiServer: string;
  controllerManager: string;
  scheduler: string;
  /** The node-operator Deployment that runs against the biz-cluster. */
  nodeOperator: string;
  secrets: {
    ca: string;
    frontProxyCA: string;
    etcdCA: string;
    serviceAccount: string;
    apiServerServing: string;
    apiServerEtcdClient: string;
    apiServerKubeletClient: string;
    frontProxyClient: string;
    etcdServer: string;
    etcdPeer: string;
    /** What an etcd member starting without data reads: how to join (etcd/membership-plan.ts). */
    etcdJoin: string;
    adminKubeconfig: string;
    controllerManagerKubeconfig: string;
    schedulerKubeconfig: string;
    nodeOperatorKubeconfig: string;
  };
}

export function clusterNames(namespace: string, cluster: string): ClusterNames {
  const etcd = `${cluster}-etcd`;
  const apiServerService = `${cluster}-apiserver`;
  return {
    cluster,
    namespace,
    etcd,
    etcdClientService: `${cluster}-etcd-client`,
    etcdMemberHost: (ordinal) => `${etcd}-${ordinal}.${etcd}.${namespace}.svc`,
    etcdClaim: (ordinal) => `data-${etcd}-${ordinal}`,
    apiServerService,
    apiServerServiceHost: `${apiServerService}.${namespace}.svc`,
    apiServer: `${cluster}-kube-apiserver`,
    controllerManager: `${cluster}-kube-controller-manager`,
    scheduler: `${cluster}-kube-scheduler`,
    nodeOperator: `${cluster}-node-operator`,
    secrets: {
      ca: `${cluster}-ca`,
      frontProxyCA: `${cluster}-front-proxy-ca`,
      etcdCA: `${cluster}-etcd-ca`,
      serviceAccount: `${cluster}-sa`,
      apiServerServing: `${cluster}-apiserver-serving`,
      apiServerEtcdClient: `${cluster}-apiserver-etcd-client`,
      apiServerKubeletClient: `${cluster}-apiserver-kubelet-client`,
      frontProxyClient: `${cluster}-front-proxy-client`,
      etcdServer: `${cluster}-etcd-server`,
      etcdPeer: `${cluster}-etcd-peer`,
      etcdJoin: `${cluster}-etcd-join`,
      adminKubeconfig: `${cluster}-admin-kubeconfig`,
      controllerManagerKubeconfig: `${cluster}-controller-manager-kubeconfig`,
      schedulerKubeconfig: `${cluster}-scheduler-kubeconfig`,
      nodeOperatorKubeconfig: `${cluster}-node-operator-kubeconfig`,
    },
  };
}

/** An object a Cluster has, by kind and name; names are unique per namespace and kind. */
export interface DerivedName {
  kind:
    'Secret' | 'Service' | 'Deployment' | 'StatefulSet' | 'PersistentVolumeClaim' | 'Pod' | 'NetworkPolicy';
  name: string;
}

/**
 * Every object name a Cluster takes in its namespace: what the operator writes,
 * plus the etcd pods and volume claims the StatefulSet controller makes under
 * names of ours. Two Clusters must never share one (name-collisions.ts).
 */
export function derivedObjectNames(names: ClusterNames, etcdReplicas: number): DerivedName[] {
  const ordinals = Array.from({ length: etcdReplicas }, (_, i) => i);
  const of = (kind: DerivedName['kind'], list: readonly string[]) => list.map((name) => ({ kind, name }));
  return [
    ...of('Secret', Object.values(names.secrets)),
    ...of('Service', [names.etcd, names.etcdClientService, names.apiServerService]),
    ...of('Deployment', [names.apiServer, names.controllerManager, names.scheduler, names.nodeOperator]),
    ...of('StatefulSet', [names.etcd]),
    ...of('NetworkPolicy', [
      names.etcd,
      names.apiServer,
      names.controllerManager,
      names.scheduler,
      names.nodeOperator,
    ]),
    ...of(
      'Pod',
      ordinals.map((i) => `${names.etcd}-${i}`),
    ),
    ...of('PersistentVolumeClaim', ordinals.map(names.etcdClaim)),
  ];
}

/** Labels on every object of a Cluster; the operator's informers select on managed-by. */
export function clusterLabels(cluster: string, component: ComponentLabel): Record<string, string> {
  return {
    [Labels.cluster]: cluster,
    [Labels.clusterComponent]: component,
    [Labels.managedBy]: OPERATOR_NAME,
  };
}

/** Pod selector of a component's workload (immutable once created, so it never includes a version). */
export function selectorLabels(cluster: string, component: ComponentLabel): Record<string, string> {
  return { [Labels.cluster]: cluster, [Labels.clusterComponent]: component };
}

/** Selects every object this operator made, across Clusters. */
export const MANAGED_SELECTOR = `${Labels.managedBy}=${OPERATOR_NAME}`;

/** Selects the objects of one Cluster. */
export function clusterSelector(cluster: string): string {
  return `${Labels.cluster}=${cluster},${MANAGED_SELECTOR}`;
}
