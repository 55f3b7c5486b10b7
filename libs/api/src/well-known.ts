/**
 * Label, annotation, finalizer, taint and condition names that more than one
 * program reads. Kept here so they are spelled once.
 */

export const Labels = {
  /** On Nodes and Machines: the NodePool the machine belongs to. */
  pool: 'nodes.kok.dev/pool',
  /** On objects the kube-on-kube operator creates for a Cluster: the Cluster's name. */
  cluster: 'clusters.kok.dev/cluster',
  /** On those objects: which control-plane component they belong to (etcd, kube-apiserver, …). */
  clusterComponent: 'clusters.kok.dev/component',
  /** Standard: which program manages the object. */
  managedBy: 'app.kubernetes.io/managed-by',
} as const;

export const Annotations = {
  /** On a Machine: any value makes the node-operator leave it alone (CAPI cluster.x-k8s.io/paused). */
  machinePaused: 'nodes.kok.dev/paused',
  /** On a Machine: ask for remediation now, whatever the conditions say. */
  remediateMachine: 'nodes.kok.dev/remediate',
  /** On a Pod: never evict it while draining (the node waits instead). */
  excludeFromDrain: 'nodes.kok.dev/exclude-from-drain',
  /** On a Cluster: any value makes the kube-on-kube operator leave it alone. */
  clusterPaused: 'clusters.kok.dev/paused',
  /**
   * On a Cluster: any value lets the kube-on-kube operator make new CA and
   * service-account key Secrets in place of missing ones, although status.pki
   * records that they existed. Removed by the operator once they all exist again.
   */
  regeneratePki: 'clusters.kok.dev/regenerate-pki',
  /** On a Cluster: "true" keeps a deleted Cluster and everything it runs until the annotation is removed. */
  deletionProtection: 'clusters.kok.dev/deletion-protection',
  /**
   * On a Cluster: a value the last etcd snapshot did not answer (status.etcd.lastSnapshot.request) makes the
   * operator take one now, e.g. before an upgrade. Any value; a new one asks again.
   */
  etcdSnapshotRequest: 'clusters.kok.dev/etcd-snapshot-request',
} as const;

export const Finalizers = {
  /** On a Machine: its Node is cordoned and drained, its host's software removed and its Node deleted before it goes. */
  machine: 'nodes.kok.dev/machine',
  /** On a Cluster: its control plane, PKI and data are torn down before it goes. */
  cluster: 'clusters.kok.dev/cluster',
} as const;

export const MachineConditions = {
  AgentReady: 'AgentReady',
  UpToDate: 'UpToDate',
  Updating: 'Updating',
  NodeHealthy: 'NodeHealthy',
  Drained: 'Drained',
  Remediating: 'Remediating',
  /**
   * Set by the node-operator while its NodePool's rollout counts the machine failed for a cause the
   * agent did not report (reason e.g. ProgressDeadlineExceeded); removed once it no longer does.
   */
  RolloutFailed: 'RolloutFailed',
  /** Set by the node agent once a deleted, drained Machine's host runs none of its software any more. */
  Decommissioned: 'Decommissioned',
} as const;

export const NodePoolConditions = {
  Available: 'Available',
  RollingOut: 'RollingOut',
  Paused: 'Paused',
  Degraded: 'Degraded',
  RolledBack: 'RolledBack',
  /** The pool shares a Machine with another pool; only one of them drives it. */
  MachinesOverlap: 'MachinesOverlap',
} as const;

export const ComponentConditions = {
  /** Set by the node-operator: the catalog entry is usable; NodePools roll out only Accepted Components. */
  Accepted: 'Accepted',
} as const;

export const ClusterConditions = {
  EtcdAvailable: 'EtcdAvailable',
  APIServerAvailable: 'APIServerAvailable',
  ControllerManagerAvailable: 'ControllerManagerAvailable',
  SchedulerAvailable: 'SchedulerAvailable',
  NodeOperatorAvailable: 'NodeOperatorAvailable',
  /** While spec.nodePools is set: True once every NodePool of the biz-cluster runs its versions, fully rolled out. */
  NodePoolsUpToDate: 'NodePoolsUpToDate',
  /** True once every enabled add-on (spec.addons) is rolled out at the Cluster's version; False with why not. */
  AddonsReady: 'AddonsReady',
  Available: 'Available',
  Progressing: 'Progressing',
  Degraded: 'Degraded',
  /** True while a CA rotation (spec.certificates.caRotationGeneration) is under way; the reason is its phase. */
  CertificatesRotating: 'CertificatesRotating',
  /** True while a deleted Cluster is kept because of the deletion-protection annotation. */
  DeletionBlocked: 'DeletionBlocked',
  /** False while the next change of etcd membership waits (a removal would lose quorum, a learner catches up, a voter is unhealthy). */
  EtcdMembership: 'EtcdMembership',
  /** True while etcd has an alarm raised (reason NOSPACE or CORRUPT); the operator never disarms one. */
  EtcdAlarm: 'EtcdAlarm',
  /** While snapshots are scheduled or requested: True when the last attempt took one, False with why it did not. */
  EtcdBackup: 'EtcdBackup',
} as const;
