/**
 * The writes of a pass over a Cluster, boring on purpose: each guarded by
 * what its decision was made on (a create fails if the object exists after
 * all, an apply or patch carries the resourceVersion it was judged on), one
 * Event per decision a person would want to see.
 */
import type { KubernetesObject, V1Secret } from '@kubernetes/client-node';
import { Annotations } from '@kok/api';
import type { ClusterStatus } from '@kok/api';
import type { EventRecorder, KubeClient } from '@kok/reconcile';
import {
  apiReader,
  createOrApplyGuarded,
  isAlreadyExists,
  isConflict,
  isNotFound,
  nameOf,
  PatchType,
  withControllerReference,
} from '@kok/reconcile';
import type { Logger } from 'pino';
import type { ForeignObject } from '../foreign-objects.ts';
import { foreignObjectOf } from '../foreign-objects.ts';
import { clusterLabels } from '../names.ts';
import type { ClusterNames } from '../names.ts';
import { isAdoptableSecret } from '../pki/pki-guard.ts';
import type { ClusterObject } from '../resource-types.ts';
import { clusterType, secretType, typeOfKind } from '../resource-types.ts';
import { contentHash } from '../template-hash.ts';
import type { PkiToProceedWith } from './guards.ts';
import type { ObjectWrite, PlannedEvent, ProgressPlan } from './plan.ts';

export interface ClusterWriter {
  client: KubeClient;
  events: EventRecorder | undefined;
  log: Logger;
}

/** How the writes of a plan went; the first failure stops the rest. */
export type WriteOutcome =
  | { kind: 'written' }
  /** Something else controls an object of a name this Cluster needs. */
  | { kind: 'foreign'; foreign: ForeignObject }
  /** The plan came from an outdated cache; the newer objects are on their way. */
  | { kind: 'stale' }
  | { kind: 'failed'; error: string };

export async function recordEvents(
  { events, log }: ClusterWriter,
  cluster: ClusterObject,
  planned: readonly PlannedEvent[],
): Promise<void> {
  for (const event of planned) {
    if (event.type === 'Warning') log.warn({ reason: event.reason }, event.message);
    await events?.record(cluster, event.type, event.reason, event.action, event.message);
  }
}

/**
 * Rollbacks first (written before the status: if this fails or the operator dies, the next pass
 * finds the same expired gate), then the plan's events, then the writes the open gates allow.
 */
export async function applyPlan(
  writer: ClusterWriter,
  cluster: ClusterObject,
  plan: ProgressPlan,
): Promise<WriteOutcome> {
  const { client, events, log } = writer;
  for (const rollback of plan.rollbacks) await writeObject(client, rollback);
  await recordEvents(writer, cluster, plan.events);
  const { version } = plan.context.cluster;
  for (const { component, objects } of plan.writes) {
    let written = 0;
    let outcome: WriteOutcome = { kind: 'written' };
    for (const write of objects) {
      try {
        await writeObject(client, write);
        written++;
        const { kind, metadata } = write.desired;
        log.info({ component: component.name, kind, name: metadata?.name }, 'applied');
      } catch (error) {
        outcome = await failedWrite(client, cluster, write.desired, error);
        break;
      }
    }
    if (written > 0 && component.condition)
      await events?.record(
        cluster,
        'Normal',
        plan.upgrading ? 'UpgradeStep' : 'ComponentApplied',
        'Apply',
        `${component.name}: ${written} object(s) written for ${version}`,
      );
    if (outcome.kind !== 'written') return outcome;
  }
  return { kind: 'written' };
}

async function failedWrite(
  client: KubeClient,
  cluster: ClusterObject,
  desired: KubernetesObject,
  error: unknown,
): Promise<WriteOutcome> {
  // Not in the caches yet, or not ours: waiting for the cache would wait forever for a foreign one.
  const foreign = isAlreadyExists(error) ? await foreignObjectNamed(client, desired, cluster) : undefined;
  if (foreign) return { kind: 'foreign', foreign };
  if (isConflict(error) || isAlreadyExists(error)) return { kind: 'stale' };
  return {
    kind: 'failed',
    error: `writing ${desired.kind} ${desired.metadata?.name} failed: ${(error as Error).message}`,
  };
}

/** Creates what the cache says is missing and applies the rest, each guarded (see createOrApplyGuarded). */
async function writeObject(client: KubeClient, { desired, observed }: ObjectWrite): Promise<void> {
  await createOrApplyGuarded(client, typeOfKind(desired.kind), desired, observed);
}

/**
 * The live object of the name `desired` has, if it exists under another controller than `cluster`.
 * A Secret the PKI guard adopts is not foreign: the caches had not seen it yet.
 */
async function foreignObjectNamed(
  client: KubeClient,
  desired: KubernetesObject,
  cluster: ClusterObject,
): Promise<ForeignObject | undefined> {
  const live = await apiReader(client, typeOfKind(desired.kind)).getByName(
    desired.metadata?.namespace ?? '',
    nameOf(desired),
  );
  if (live && desired.kind === 'Secret' && isAdoptableSecret(live, cluster.metadata.name ?? ''))
    return undefined;
  return foreignObjectOf(desired.kind ?? '', live, cluster.metadata.uid ?? '');
}

/**
 * Makes the Cluster the controller of Secrets labelled for it that nothing controls (restored from a
 * backup), each guarded by the resourceVersion it was judged on. One that changed or went since it
 * was read is left alone: the next pass judges it again from the newer object.
 */
export async function adoptSecrets(
  { client, events, log }: ClusterWriter,
  cluster: ClusterObject,
  secrets: readonly V1Secret[],
): Promise<void> {
  const namespace = cluster.metadata.namespace ?? '';
  const names = secrets.map(nameOf);
  for (const secret of secrets) {
    try {
      await client.patch(secretType, { namespace, name: nameOf(secret) }, PatchType.merge, {
        metadata: {
          resourceVersion: secret.metadata?.resourceVersion,
          ownerReferences: withControllerReference(secret, cluster).metadata?.ownerReferences,
        },
      });
    } catch (error) {
      if (isConflict(error) || isNotFound(error)) return;
      throw error;
    }
  }
  log.info({ secrets: names }, 'adopted');
  await events?.record(
    cluster,
    'Normal',
    'SecretsAdopted',
    'Adopt',
    `${names.length} Secret(s) labelled for this Cluster and controlled by nothing (restored from a backup) ` +
      `adopted: ${names.join(', ')}`,
  );
}

/** Labels again the Secrets of ours that lost their label, and removes a regenerate-pki annotation that did its work. */
export async function tidyPki(
  { client, events, log }: ClusterWriter,
  cluster: ClusterObject,
  names: ClusterNames,
  pki: PkiToProceedWith,
): Promise<void> {
  for (const secretName of pki.relabel) {
    await client.patch(secretType, { namespace: names.namespace, name: secretName }, PatchType.merge, {
      metadata: { labels: clusterLabels(names.cluster, 'pki') },
    });
    log.info({ secret: secretName }, 'labelled again');
  }
  if (pki.removeRegenerateAnnotation) {
    // One-shot: every CA and key exists again, so the annotation has done its work.
    await client.patch(clusterType, { namespace: names.namespace, name: names.cluster }, PatchType.merge, {
      metadata: { annotations: { [Annotations.regeneratePki]: null } },
    });
    await events?.record(
      cluster,
      'Normal',
      'PKIRegenerated',
      'RegeneratePKI',
      `every CA and service-account key Secret exists; annotation ${Annotations.regeneratePki} removed`,
    );
  }
}

/**
 * Writes the status if it changed, guarded by the resourceVersion the status
 * was computed from. Returns false when the cache was stale (Conflict): the
 * caller looks again shortly, from the newer object.
 */
export async function writeStatus(
  client: KubeClient,
  cluster: ClusterObject,
  status: ClusterStatus,
): Promise<boolean> {
  if (contentHash(cluster.status ?? {}) === contentHash(status)) return true;
  try {
    await client.mergePatchStatus(
      clusterType,
      { namespace: cluster.metadata.namespace, name: cluster.metadata.name ?? '' },
      { metadata: { resourceVersion: cluster.metadata.resourceVersion }, status },
    );
    return true;
  } catch (error) {
    if (isConflict(error)) return false;
    throw error;
  }
}
