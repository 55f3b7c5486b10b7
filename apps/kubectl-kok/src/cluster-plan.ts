/**
 * `kubectl kok cluster plan <name> --version V`: what setting spec.version to
 * V would do, worked out with the rules the apiserver and the kube-on-kube
 * operator use (all from @kok/api): whether the apiserver accepts the change
 * (the Cluster CRD's own validation, skew rule included), which etcd the new
 * version pairs with, the order the operator's gates move the components in,
 * and whether the running kubelets stay within skew of the new apiserver (the
 * operator holds a minor upgrade until they do, and this shows its message
 * while it holds one).
 * Pure: the Cluster and the kubelets as read in, a view out.
 */
import {
  CLUSTER_COMPONENTS,
  ClusterConditions,
  ClusterResource,
  CONTROL_PLANE_ORDER,
  etcdImage,
  etcdVersionUnknownMessage,
  findCondition,
  isClusterPaused,
  isNewerMinor,
  kubeImage,
  KUBELET_VERSION_SKEW,
  KUBELET_VERSIONS_UNKNOWN,
  kubeletSkewChecks,
  pairedEtcdVersion,
  planGates,
  validatorFor,
} from '@kok/api';
import type {
  Cluster,
  ClusterComponentName,
  ClusterComponentOrder,
  KubeletSkewCheck,
  KubeletsObserved,
  NodeKubelet,
} from '@kok/api';

export type { KubeletsObserved };

export interface ComponentChange {
  component: ClusterComponentName;
  /** The binary it runs, as its image is named. */
  binary: string;
  /** The version it runs now (status.components), else the one the current spec asks for. */
  from?: string;
  /** The version the proposed spec asks for; undefined when the operator cannot choose one. */
  to?: string;
  fromImage?: string;
  toImage?: string;
  changes: boolean;
  /** The upgrade step that rewrites it (1 is the first); undefined when it does not change or nothing moves. */
  step?: number;
  /** The Cluster condition that must be True at `to` before a component that depends on it starts. */
  gate: string;
  /** Components that must be Available at the new version before it is written. */
  waitsFor: readonly ClusterComponentName[];
  /** Why it is not in the plan, when it is not run by the operator. */
  note?: string;
}

export interface UpgradeStep {
  step: number;
  components: ClusterComponentName[];
  /** Conditions that must be True at the new version before the next step starts. */
  gates: string[];
}

/** A kubelet checked against an apiserver at the target version (the operator's check, from @kok/api). */
export type KubeletCheck = KubeletSkewCheck;

export interface ClusterPlanView {
  cluster: string;
  namespace: string;
  /** status.version.current, else spec.version. */
  currentVersion: string;
  /** spec.version now: what the apiserver compares the new value with. */
  specVersion: string;
  targetVersion: string;
  /** The apiserver accepts spec.version = targetVersion. */
  allowed: boolean;
  /** Why it refuses, in its own words. */
  refusals: string[];
  /** An upgrade the operator has not finished yet, when there is one. */
  inProgress?: string;
  /** spec.paused or the pause annotation: nothing changes until resumed. */
  paused: boolean;
  /** What holds the operator once the version is set, before it writes anything. */
  blocked?: string;
  /** The operator holds the Cluster's upgrade now for its kubelets: the message of that condition. */
  heldForKubelets?: string;
  etcd: { external: boolean; from?: string; to?: string; changes: boolean; pinned: boolean };
  components: ComponentChange[];
  /** Empty when the apiserver refuses the version or the operator would hold the Cluster. */
  steps: UpgradeStep[];
  kubelets:
    { readable: true; checked: KubeletCheck[]; problems: number } | { readable: false; reason: string };
}

/** The components that run a binary of a version, in bring-up order. */
const VERSIONED = CONTROL_PLANE_ORDER.filter(
  (name): name is 'etcd' | 'apiServer' | 'controllerManager' | 'scheduler' =>
    'binary' in CLUSTER_COMPONENTS[name],
);

export function clusterPlanView(
  cluster: Cluster,
  targetVersion: string,
  kubelets: KubeletsObserved,
): ClusterPlanView {
  const spec = cluster.spec;
  const status = cluster.status;
  const proposed: Cluster = { ...cluster, spec: { ...spec, version: targetVersion } };
  const refusals = validatorFor(ClusterResource)
    .validate(proposed, cluster)
    .filter((error) => error.field === 'spec.version')
    .map((error) => error.message);

  const external = spec.etcd?.external !== undefined;
  const pinnedEtcd = spec.etcd?.version;
  const etcdNow = pinnedEtcd ?? pairedEtcdVersion(spec.version);
  const etcdThen = pinnedEtcd ?? pairedEtcdVersion(targetVersion);
  // An empty version means the pods are mixed: nothing to report then.
  const running = (name: (typeof VERSIONED)[number]) => status?.components?.[name]?.version || undefined;

  const components: ComponentChange[] = VERSIONED.map((name) => {
    const order = CLUSTER_COMPONENTS[name];
    const isEtcd = name === 'etcd';
    const image = isEtcd ? etcdImage : (version: string) => kubeImage(order.binary, version);
    const from = running(name) ?? (isEtcd ? etcdNow : spec.version);
    const to = isEtcd ? etcdThen : targetVersion;
    if (isEtcd && external)
      return {
        component: name,
        binary: order.binary,
        changes: false,
        gate: order.condition,
        waitsFor: order.dependsOn,
        note: 'spec.etcd.external: the operator runs no etcd',
      };
    return {
      component: name,
      binary: order.binary,
      ...(from === undefined ? {} : { from, fromImage: image(from) }),
      ...(to === undefined ? {} : { to, toImage: image(to) }),
      changes: from !== to,
      gate: order.condition,
      waitsFor: order.dependsOn,
    };
  });

  const current = status?.version?.current ?? spec.version;
  const kubeletView = kubelets.readable ? kubeletChecks(kubelets.nodes, targetVersion) : kubelets;
  const blocked =
    !external && etcdThen === undefined
      ? etcdVersionUnknownMessage(targetVersion)
      : kubeletView.readable && kubeletView.problems > 0 && isNewerMinor(current, targetVersion)
        ? `${kubeletView.problems} of ${kubeletView.checked.length} kubelets are outside the skew policy of an ` +
          `apiserver at ${targetVersion}: a minor upgrade waits until they are upgraded or their Nodes are gone`
        : undefined;
  const allowed = refusals.length === 0;
  // A refused version or a held Cluster moves nothing.
  const steps = allowed && blocked === undefined ? upgradeSteps(components) : [];
  for (const step of steps)
    for (const name of step.components) {
      const change = components.find((c) => c.component === name);
      if (change) change.step = step.step;
    }

  const etcdChange = components.find((c) => c.component === 'etcd');
  const held = findCondition(status?.conditions, ClusterConditions.Degraded);
  const heldForKubelets =
    held?.status === 'True' &&
    (held.reason === KUBELET_VERSION_SKEW || held.reason === KUBELET_VERSIONS_UNKNOWN)
      ? held.message
      : undefined;
  const inProgress =
    status?.version?.current !== undefined && status.version.current !== spec.version
      ? `the operator is still moving the Cluster from ${status.version.current} to ${spec.version}`
      : undefined;

  return {
    cluster: cluster.metadata?.name ?? '',
    namespace: cluster.metadata?.namespace ?? '',
    currentVersion: current,
    specVersion: spec.version,
    targetVersion,
    allowed,
    refusals,
    ...(inProgress === undefined ? {} : { inProgress }),
    paused: isClusterPaused(cluster),
    ...(blocked === undefined ? {} : { blocked }),
    ...(heldForKubelets === undefined ? {} : { heldForKubelets }),
    etcd: {
      external,
      ...(etcdChange?.from === undefined ? {} : { from: etcdChange.from }),
      ...(etcdChange?.to === undefined ? {} : { to: etcdChange.to }),
      changes: etcdChange?.changes ?? false,
      pinned: pinnedEtcd !== undefined,
    },
    components,
    steps,
    kubelets: kubeletView,
  };
}

/**
 * The operator's gate plan run forward: each step writes what the gates let
 * through while the components written before it are not yet Available at
 * the new version, then counts them Available. Components that do not
 * change are Available at the new version from the start.
 */
export function upgradeSteps(components: readonly ComponentChange[]): UpgradeStep[] {
  const changing = new Set(components.filter((c) => c.changes).map((c) => c.component));
  const written = new Set<ClusterComponentName>();
  const steps: UpgradeStep[] = [];
  for (let step = 1; step <= CONTROL_PLANE_ORDER.length; step++) {
    const plan = planGates(
      CONTROL_PLANE_ORDER.map((name) => ({
        name,
        dependsOn: CLUSTER_COMPONENTS[name].dependsOn,
        rendered: true,
        needsWrite: changing.has(name) && !written.has(name),
        availableAtDesired: !changing.has(name) || written.has(name),
      })),
    );
    if (plan.apply.length === 0) break;
    steps.push({
      step,
      components: plan.apply,
      gates: plan.apply.flatMap((name) => {
        const order: ClusterComponentOrder = CLUSTER_COMPONENTS[name];
        return order.condition === undefined ? [] : [order.condition];
      }),
    });
    for (const name of plan.apply) written.add(name);
  }
  return steps;
}

function kubeletChecks(
  nodes: readonly NodeKubelet[],
  apiServerVersion: string,
): { readable: true; checked: KubeletCheck[]; problems: number } {
  const checked = kubeletSkewChecks(nodes, apiServerVersion);
  return { readable: true, checked, problems: checked.filter((c) => c.problem !== undefined).length };
}
