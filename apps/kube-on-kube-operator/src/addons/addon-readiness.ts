/**
 * Whether the add-ons run as rendered, from what the last pass did and read
 * in the biz-cluster: the status the Cluster reports (status.addons) and the
 * condition AddonsReady. Pure.
 */
import type { V1DaemonSet, V1Deployment } from '@kubernetes/client-node';
import type { AddonBundle, AddonName } from './addon-bundle.ts';
import { ADDON_NAMES } from './addon-bundle.ts';

export interface AddonStatus {
  replicas: number;
  ready: number;
  /** The version every pod runs, once rolled out at what this operator renders; empty otherwise. */
  version: string;
}

export interface AddonWorkloads {
  coreDNS: V1Deployment | undefined;
  kubeProxy: V1DaemonSet | undefined;
}

export interface AddonPassOutcome {
  workloads: AddonWorkloads;
  failed: Partial<Record<AddonName, string>>;
  foreign: readonly string[];
}

export interface AddonReadiness {
  status: Record<AddonName, AddonStatus>;
  ready: boolean;
  reason: string;
  message: string;
}

const WORKLOADS: Record<AddonName, string> = {
  coreDNS: 'Deployment kube-system/coredns',
  kubeProxy: 'DaemonSet kube-system/kube-proxy',
};

interface Progress {
  replicas: number;
  ready: number;
  rolledOut: boolean;
  image: string | undefined;
}

function deploymentProgress(d: V1Deployment): Progress {
  const replicas = d.spec?.replicas ?? 1;
  const s = d.status ?? {};
  const ready = s.availableReplicas ?? 0;
  const rolledOut =
    (s.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0) &&
    (s.updatedReplicas ?? 0) === replicas &&
    (s.replicas ?? 0) === replicas &&
    ready >= replicas;
  return { replicas, ready, rolledOut, image: d.spec?.template.spec?.containers[0]?.image };
}

function daemonSetProgress(d: V1DaemonSet): Progress {
  const s = d.status;
  const replicas = s?.desiredNumberScheduled ?? 0;
  const ready = s?.numberAvailable ?? 0;
  const rolledOut =
    (s?.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0) &&
    (s?.updatedNumberScheduled ?? 0) === replicas &&
    ready === replicas;
  return { replicas, ready, rolledOut, image: d.spec?.template.spec?.containers[0]?.image };
}

export function addonReadiness(bundle: AddonBundle, outcome: AddonPassOutcome): AddonReadiness {
  const status = {} as Record<AddonName, AddonStatus>;
  const failed: string[] = [];
  const blocked: string[] = [];
  const waiting: string[] = [];
  const running: string[] = [];
  for (const name of ADDON_NAMES) {
    const plan = bundle.plans[name];
    const workload = outcome.workloads[name];
    const progress = workload
      ? name === 'coreDNS'
        ? deploymentProgress(workload as V1Deployment)
        : daemonSetProgress(workload as V1DaemonSet)
      : undefined;
    const asRendered = plan.kind === 'apply' && progress?.rolledOut === true && progress.image === plan.image;
    // What runs is reported whatever the plan: a blocked add-on keeps running as it was.
    status[name] = {
      replicas: progress?.replicas ?? 0,
      ready: progress?.ready ?? 0,
      version: asRendered ? plan.version : '',
    };
    const error = outcome.failed[name];
    if (error) failed.push(`${name}: ${error}`);
    else if (plan.kind === 'blocked') blocked.push(`${name} not deployed: ${plan.reason}`);
    else if (plan.kind === 'apply' && !progress) waiting.push(`${WORKLOADS[name]} is not there yet`);
    else if (plan.kind === 'apply' && !asRendered)
      waiting.push(
        progress?.image !== plan.image
          ? `${WORKLOADS[name]} runs ${progress?.image ?? 'nothing'}, not ${plan.image}`
          : `${WORKLOADS[name]} rolls out ${plan.version}: ${progress.ready}/${progress.replicas} available`,
      );
    else if (plan.kind === 'apply') running.push(`${name} ${plan.version}`);
  }
  const kept =
    outcome.foreign.length > 0
      ? [`left alone, not made by this operator: ${outcome.foreign.join(', ')}`]
      : [];
  const message = (parts: string[]) => [...parts, ...kept].join('; ');
  if (failed.length > 0)
    return {
      status,
      ready: false,
      reason: 'ApplyFailed',
      message: message([...failed, ...blocked, ...waiting]),
    };
  if (blocked.length > 0)
    return { status, ready: false, reason: 'NotDeployed', message: message([...blocked, ...waiting]) };
  if (waiting.length > 0) return { status, ready: false, reason: 'RollingOut', message: message(waiting) };
  return running.length > 0
    ? { status, ready: true, reason: 'RolledOut', message: message([`rolled out: ${running.join(', ')}`]) }
    : {
        status,
        ready: true,
        reason: 'NoneEnabled',
        message: message(['every add-on is disabled (spec.addons)']),
      };
}
