import type { V1ObjectMeta } from '@kubernetes/client-node';
import type { ClusterStatus } from '@kok/api';
import { describe, expect, it } from 'vitest';
import {
  foreignEtcdClaimOf,
  foreignObjectOf,
  NAME_CONFLICT,
  NAME_CONFLICT_RECHECK_MAX_MS,
  NAME_CONFLICT_RECHECK_MIN_MS,
  nameConflictMessage,
  nameConflictRecheckMs,
} from './foreign-objects.ts';
import { clusterLabels } from './names.ts';

const UID = 'uid-of-prod';
const controlledBy = (uid: string, kind = 'Cluster', name = 'prod') => ({
  ownerReferences: [{ apiVersion: 'clusters.kok.dev/v1alpha1', kind, name, uid, controller: true }],
});
const object = (metadata: V1ObjectMeta) => ({ metadata: { name: 'prod-kube-scheduler', ...metadata } });

describe('foreignObjectOf', () => {
  it.each([
    ['absent', undefined, undefined],
    ['controlled by this Cluster', object(controlledBy(UID)), undefined],
    [
      'controlled by another Cluster',
      object(controlledBy('uid-of-prod-old', 'Cluster', 'prod')),
      { kind: 'Deployment', name: 'prod-kube-scheduler', controller: 'Cluster/prod' },
    ],
    [
      'without a controller, even with our labels',
      object({ labels: clusterLabels('prod', 'kube-scheduler') }),
      { kind: 'Deployment', name: 'prod-kube-scheduler', controller: undefined },
    ],
    [
      'owned by this Cluster but not as its controller',
      object({ ownerReferences: [{ apiVersion: 'v1', kind: 'Cluster', name: 'prod', uid: UID }] }),
      { kind: 'Deployment', name: 'prod-kube-scheduler', controller: undefined },
    ],
  ])('%s', (_, live, expected) => {
    expect(foreignObjectOf('Deployment', live, UID)).toEqual(expected);
  });

  it('takes nothing as controlled by a Cluster that has no uid yet', () => {
    expect(foreignObjectOf('Deployment', object(controlledBy('')), '')).toBeDefined();
  });
});

describe('foreignEtcdClaimOf', () => {
  const claim = (labels: Record<string, string>) => ({ metadata: { name: 'data-prod-etcd-0', labels } });
  it('takes the claims of this Cluster’s etcd template as its own', () => {
    expect(foreignEtcdClaimOf(claim(clusterLabels('prod', 'etcd')), 'prod')).toBeUndefined();
    expect(foreignEtcdClaimOf(undefined, 'prod')).toBeUndefined();
  });
  it('reports a claim of the name with other labels', () => {
    expect(foreignEtcdClaimOf(claim({ app: 'db' }), 'prod')).toEqual({
      kind: 'PersistentVolumeClaim',
      name: 'data-prod-etcd-0',
      controller: undefined,
    });
    expect(foreignEtcdClaimOf(claim(clusterLabels('other', 'etcd')), 'prod')).toBeDefined();
  });
});

describe('nameConflictMessage', () => {
  it('names each object, its controller and what a person can do', () => {
    expect(
      nameConflictMessage(
        [
          { kind: 'Service', name: 'prod-apiserver', controller: undefined },
          { kind: 'Deployment', name: 'prod-kube-scheduler', controller: 'Cluster/prod' },
        ],
        UID,
      ),
    ).toBe(
      'Service prod-apiserver (no controller), Deployment prod-kube-scheduler (controlled by Cluster/prod) have a name ' +
        'this Cluster needs but are not controlled by it (uid uid-of-prod): the operator neither adopts nor overwrites ' +
        'them and writes nothing more for this Cluster until they are deleted or renamed',
    );
  });
});

describe('nameConflictRecheckMs', () => {
  const now = new Date('2030-01-01T00:10:00Z');
  const degradedSince = (reason: string, at: string): ClusterStatus => ({
    conditions: [{ type: 'Degraded', status: 'True', reason, message: '', lastTransitionTime: at }],
  });
  it('waits as long as the conflict has lasted, within its bounds', () => {
    expect(nameConflictRecheckMs(undefined, now)).toBe(NAME_CONFLICT_RECHECK_MIN_MS);
    expect(nameConflictRecheckMs(degradedSince(NAME_CONFLICT, '2030-01-01T00:09:58Z'), now)).toBe(
      NAME_CONFLICT_RECHECK_MIN_MS,
    );
    expect(nameConflictRecheckMs(degradedSince(NAME_CONFLICT, '2030-01-01T00:09:00Z'), now)).toBe(60_000);
    expect(nameConflictRecheckMs(degradedSince(NAME_CONFLICT, '2030-01-01T00:00:00Z'), now)).toBe(
      NAME_CONFLICT_RECHECK_MAX_MS,
    );
  });
  it('starts from the shortest wait when the Cluster was degraded for another reason', () => {
    expect(nameConflictRecheckMs(degradedSince('PKIMissing', '2030-01-01T00:00:00Z'), now)).toBe(
      NAME_CONFLICT_RECHECK_MIN_MS,
    );
  });
});
