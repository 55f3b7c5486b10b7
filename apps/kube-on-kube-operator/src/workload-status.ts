/**
 * "Available at the desired version" for Deployments and StatefulSets, from
 * what their controllers report: the latest generation observed, every replica
 * updated to the desired template and version, the required replicas Ready.
 */
import type { V1Deployment, V1StatefulSet } from '@kubernetes/client-node';
import type { ComponentStatus } from './components/component.ts';
import { templateHashOf } from './template-hash.ts';

/** etcd keeps working while a majority of members is up. */
export function quorum(replicas: number): number {
  return Math.floor(replicas / 2) + 1;
}

/**
 * Pods a Deployment of `replicas` must have Ready: all but the one a rolling
 * update may take down (maxUnavailable 1 from two replicas up).
 */
export function requiredReady(replicas: number): number {
  return replicas > 1 ? replicas - 1 : 1;
}

/** The tag of `registry/name:tag` (digests are not tags). */
export function imageTag(image: string | undefined): string | undefined {
  if (!image) return undefined;
  const lastSlash = image.lastIndexOf('/');
  const colon = image.indexOf(':', lastSlash + 1);
  if (colon < 0) return undefined;
  return image.slice(colon + 1).split('@')[0];
}

interface WorkloadFacts {
  what: string;
  replicas: number;
  required: number;
  requiredWord: string;
  ready: number;
  generationObserved: boolean;
  rolledOut: boolean;
  templateMatches: boolean;
  observedVersion: string | undefined;
  desiredVersion: string;
}

function judge(f: WorkloadFacts): ComponentStatus {
  const available = f.ready >= f.required;
  const counts = { replicas: f.replicas, ready: f.ready };
  const version = f.rolledOut && f.generationObserved ? (f.observedVersion ?? '') : '';
  const base = { available, ...counts, version };
  if (!f.templateMatches)
    return {
      ...base,
      availableAtDesired: false,
      reason: 'Updating',
      message: `${f.what} is being written for version ${f.desiredVersion}`,
    };
  if (!f.generationObserved)
    return {
      ...base,
      availableAtDesired: false,
      reason: 'Updating',
      message: `${f.what} has not observed its latest generation yet`,
    };
  if (!f.rolledOut || f.observedVersion !== f.desiredVersion)
    return {
      ...base,
      availableAtDesired: false,
      reason: 'RollingOut',
      message: `${f.what} is rolling out version ${f.desiredVersion}`,
    };
  if (!available)
    return {
      ...base,
      availableAtDesired: false,
      reason: 'NotEnoughReady',
      message: `${f.what}: ${f.ready}/${f.replicas} ready, ${f.required} needed (${f.requiredWord})`,
    };
  return {
    ...base,
    availableAtDesired: true,
    reason: 'Available',
    message: `${f.what}: ${f.ready}/${f.replicas} ready at ${f.desiredVersion}`,
  };
}

const missing = (what: string): ComponentStatus => ({
  available: false,
  availableAtDesired: false,
  reason: 'Missing',
  message: `${what} not created yet`,
});

export function deploymentStatus(
  observed: V1Deployment | undefined,
  desired: V1Deployment,
  desiredVersion: string,
): ComponentStatus {
  const what = `Deployment ${desired.metadata?.name}`;
  if (!observed) return missing(what);
  const replicas = observed.spec?.replicas ?? 1;
  const status = observed.status ?? {};
  return judge({
    what,
    replicas,
    required: requiredReady(replicas),
    requiredWord: 'all but one',
    ready: status.availableReplicas ?? 0,
    generationObserved: (status.observedGeneration ?? 0) >= (observed.metadata?.generation ?? 0),
    rolledOut: (status.updatedReplicas ?? 0) === replicas && (status.replicas ?? 0) === replicas,
    templateMatches: templateHashOf(observed) === templateHashOf(desired),
    observedVersion: imageTag(observed.spec?.template.spec?.containers[0]?.image),
    desiredVersion,
  });
}

export function statefulSetStatus(
  observed: V1StatefulSet | undefined,
  desired: V1StatefulSet,
  desiredVersion: string,
): ComponentStatus {
  const what = `StatefulSet ${desired.metadata?.name}`;
  if (!observed) return missing(what);
  const replicas = observed.spec?.replicas ?? 1;
  const status = observed.status ?? { replicas: 0 };
  return judge({
    what,
    replicas,
    required: quorum(replicas),
    requiredWord: 'quorum',
    ready: status.readyReplicas ?? 0,
    generationObserved: (status.observedGeneration ?? 0) >= (observed.metadata?.generation ?? 0),
    rolledOut:
      (status.updatedReplicas ?? 0) === replicas &&
      (status.replicas ?? 0) === replicas &&
      (!status.updateRevision || status.currentRevision === status.updateRevision),
    templateMatches: templateHashOf(observed) === templateHashOf(desired),
    // etcd images are tagged `3.6.16-0`: the suffix is the image build, not the etcd version.
    observedVersion: imageTag(observed.spec?.template.spec?.containers[0]?.image)?.replace(/-\d+$/, ''),
    desiredVersion,
  });
}
