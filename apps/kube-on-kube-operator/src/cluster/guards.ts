/**
 * What must hold before anything is rendered for a Cluster: an etcd version,
 * a usable external-etcd Secret, etcd claims that are ours and data that was
 * not lost, a PKI that is the one status.pki records, and before a minor
 * upgrade begins, kubelets within skew of it (kubelet-skew.ts). A guard that
 * fails holds the Cluster (Degraded, nothing written, look again later);
 * Secrets restored from a backup are adopted first. Pure.
 */
import type { V1Secret } from '@kubernetes/client-node';
import { ETCD_VERSION_UNKNOWN, etcdVersionUnknownMessage } from '@kok/api';
import type { ClusterStatus } from '@kok/api';
import { ETCD_DATA_LOST, etcdDataLostMessage, isEtcdDataLost } from '../etcd-data-guard.ts';
import { externalEtcdSecretProblem } from '../external-etcd.ts';
import type { ForeignObject } from '../foreign-objects.ts';
import {
  foreignEtcdClaimOf,
  NAME_CONFLICT,
  nameConflictMessage,
  nameConflictRecheckMs,
} from '../foreign-objects.ts';
import type { PkiSpec } from '../pki/certificates.ts';
import { guardPki, nextPkiFingerprints, regeneratePkiRequested } from '../pki/pki-guard.ts';
import { NODE_API_HASH_ANNOTATION } from '../node-api/node-tier.ts';
import type { ClusterObject } from '../resource-types.ts';
import { kubeletSkewHold } from './kubelet-skew.ts';
import type { ObservedCluster } from './observe.ts';

/** While a guard holds a Cluster (PKI missing, etcd data lost): look again this often, in case nothing we watch changes. */
export const BLOCKED_RECHECK_MS = 60_000;

/** The Cluster holds: Degraded with this reason, an Event, nothing written. */
export interface Hold {
  reason: string;
  message: string;
  requeueAfter: number;
}

/** The PKI the rest of the pass builds on, and what to tidy before. */
export interface PkiToProceedWith {
  specs: readonly PkiSpec[];
  /** The Secrets this Cluster controls, by name: reused, renewed when due. */
  existing: ReadonlyMap<string, V1Secret>;
  /** Ours but unlabelled: labelled again, so the caches (and teardown) see them once more. */
  relabel: readonly string[];
  /** The one-shot regenerate-pki annotation has done its work. */
  removeRegenerateAnnotation: boolean;
}

export type Guarded =
  | { kind: 'hold'; hold: Hold }
  /** Secrets labelled for this Cluster and controlled by nothing (a restore): made its own, then look again. */
  | { kind: 'adopt'; secrets: readonly V1Secret[] }
  | { kind: 'proceed'; pki?: PkiToProceedWith; pkiFingerprints: ClusterStatus['pki'] };

export function guardCluster(observed: ObservedCluster, at: Date): Guarded {
  const { cluster, resolved, names } = observed;
  const hold = (reason: string, message: string, requeueAfter = BLOCKED_RECHECK_MS): Guarded => ({
    kind: 'hold',
    hold: { reason, message, requeueAfter },
  });
  const external = resolved.etcd.external;
  if (!external && resolved.etcd.version === undefined)
    return hold(ETCD_VERSION_UNKNOWN, etcdVersionUnknownMessage(resolved.version));
  const externalEtcdProblem =
    external &&
    externalEtcdSecretProblem(names.namespace, external.tlsSecretName, observed.externalEtcdSecret);
  if (externalEtcdProblem) return hold(externalEtcdProblem.reason, externalEtcdProblem.message);
  // A Cluster whose name the CRD now refuses (made before the rule) keeps running: the owner checks
  // hold whichever of two colliding Clusters finds the other's object, never both.

  const { newMemberClaims } = observed;
  if (newMemberClaims) {
    const foreignClaims = newMemberClaims.claims.flatMap(
      (claim) => foreignEtcdClaimOf(claim, names.cluster) ?? [],
    );
    if (foreignClaims.length > 0) return { kind: 'hold', hold: nameConflictHold(cluster, foreignClaims, at) };
    const claimsLeft = newMemberClaims.claims.filter((c) => c && !c.metadata?.deletionTimestamp).length;
    if (
      cluster.status?.etcd?.initializedTime &&
      !observed.etcdStatefulSetExists &&
      isEtcdDataLost({ status: cluster.status, statefulSetExists: false, claimsLeft })
    )
      return hold(ETCD_DATA_LOST, etcdDataLostMessage(names, newMemberClaims.names));
  }

  // Held last: what stops every pass (the PKI) is reported before what stops only an upgrade.
  const kubelets = kubeletSkewHold({
    status: cluster.status,
    targetVersion: resolved.version,
    kubelets: observed.kubelets,
    nodeTierInstalled: cluster.metadata.annotations?.[NODE_API_HASH_ANNOTATION] !== undefined,
  });

  if (!observed.pki)
    return kubelets
      ? { kind: 'hold', hold: kubelets }
      : { kind: 'proceed', pkiFingerprints: cluster.status?.pki };
  const { specs, found, unlabelled } = observed.pki;
  const guard = guardPki({
    specs,
    found,
    clusterUid: cluster.metadata.uid ?? '',
    clusterName: names.cluster,
    recorded: cluster.status?.pki,
    regenerateRequested: regeneratePkiRequested(cluster.metadata.annotations),
  });
  if (guard.kind === 'blocked') return hold(guard.reason, guard.message);
  if (guard.adopt.length > 0)
    return { kind: 'adopt', secrets: guard.adopt.flatMap((name) => found.get(name) ?? []) };
  if (kubelets) return { kind: 'hold', hold: kubelets };
  return {
    kind: 'proceed',
    pki: {
      specs,
      existing: guard.existing,
      relabel: unlabelled,
      removeRegenerateAnnotation: guard.removeRegenerateAnnotation,
    },
    pkiFingerprints: nextPkiFingerprints(cluster.status?.pki, specs, guard.existing),
  };
}

/** Objects of names this Cluster needs, controlled by something else: neither adopted nor overwritten. */
export function nameConflictHold(cluster: ClusterObject, taken: readonly ForeignObject[], at: Date): Hold {
  return {
    reason: NAME_CONFLICT,
    message: nameConflictMessage(taken, cluster.metadata.uid ?? ''),
    requeueAfter: nameConflictRecheckMs(cluster.status, at),
  };
}
