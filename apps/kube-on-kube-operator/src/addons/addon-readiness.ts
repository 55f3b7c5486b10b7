/**
 * Whether the add-ons run as rendered, from their workloads as last read in
 * the biz-cluster: the status the Cluster reports (status.addons) and the
 * condition AddonsReady. Pure.
 */
import type { V1DaemonSet, V1Deployment } from '@kubernetes/client-node';
import type { AddonBundle, AddonName } from './addon-bundle.ts';

export interface AddonStatus {
  replicas: number;
  ready: number;
  /** The version every pod runs; empty while the rollout moves. */
  version: string;
}

export interface AddonWorkloads {
  coreDNS: V1Deployment | undefined;
  kubeProxy: V1DaemonSet | undefined;
}

export interface AddonReadiness {
  status: Partial<Record<AddonName, AddonStatus>>;
  ready: boolean;
  reason: string;
  message: string;
}

const WORKLOADS: Record<AddonName, string> = {
  coreDNS: 'Deployment kube-system/coredns',
  kubeProxy: 'DaemonSet kube-system/kube-proxy',
};

function deploymentProgress(d: V1Deployment): { replicas: number; ready: number; rolledOut: boolean } {
  const replicas = d.spec?.replicas ?? 1;
  const s = d.status ?? {};
  const ready = s.availableReplicas ?? 0;
  const rolledOut =
    (s.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0) &&
    (s.updatedReplicas ?? 0) === replicas &&
    (s.replicas ?? 0) === replicas &&
    ready >= replicas;
  return { replicas, ready, rolledOut };
}

function daemonSetProgress(d: V1DaemonSet): { replicas: number; ready: number; rolledOut: boolean } {
  const s = d.status;
  const replicas = s?.desiredNumberScheduled ?? 0;
  const ready = s?.numberAvailable ?? 0;
  const rolledOut =
    (s?.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0) &&
    (s?.updatedNumberScheduled ?? 0) === replicas &&
    ready === replicas;
  return { replicas, ready, rolledOut };
}

export function addonReadiness(bundle: AddonBundle, workloads: AddonWorkloads): AddonReadiness {
  const status: Partial<Record<AddonName, AddonStatus>> = {};
  const waiting: string[] = [];
  for (const [name, version] of Object.entries(bundle.versions) as [AddonName, string][]) {
    const workload = workloads[name];
    if (!workload) {
      waiting.push(`${WORKLOADS[name]} is not there yet`);
      continue;
    }
    const progress =
      name === 'coreDNS'
        ? deploymentProgress(workload as V1Deployment)
        : daemonSetProgress(workload as V1DaemonSet);
    status[name] = {
      replicas: progress.replicas,
      ready: progress.ready,
      version: progress.rolledOut ? version : '',
    };
    if (!progress.rolledOut)
      waiting.push(
        `${WORKLOADS[name]} rolls out ${version}: ${progress.ready}/${progress.replicas} available`,
      );
  }
  const blocked = Object.entries(bundle.blocked).map(([name, why]) => `${name} not deployed: ${why}`);
  if (blocked.length > 0)
    return { status, ready: false, reason: 'NotDeployed', message: [...blocked, ...waiting].join('; ') };
  if (waiting.length > 0) return { status, ready: false, reason: 'RollingOut', message: waiting.join('; ') };
  const running = Object.entries(bundle.versions).map(([name, version]) => `${name} ${version}`);
  return {
    status,
    ready: true,
    reason: running.length > 0 ? 'RolledOut' : 'NoneEnabled',
    message:
      running.length > 0 ? `rolled out: ${running.join(', ')}` : 'every add-on is disabled (spec.addons)',
  };
}
