import type { V1PersistentVolumeClaim, V1Pod } from '@kubernetes/client-node';
import { etcdImage } from '@kok/api';
import { describe, expect, it } from 'vitest';
import { resolveCluster } from '../cluster-spec.ts';
import { clusterNames } from '../names.ts';
import type { MemberRestoreState, RestoreAction } from './restore-plan.ts';
import {
  ETCD_RESTORE_SOURCE_ANNOTATION,
  ETCD_RESTORED_FROM_ANNOTATION,
  planRestore,
  restoreFailedMessage,
  restorePod,
} from './restore-plan.ts';

const source = { claimName: 'snapshots', path: 'prod/web/web-20261203T101500Z.db' };
const cluster = resolveCluster({
  metadata: { namespace: 'prod', name: 'web' },
  spec: { version: 'v1.36.3', etcd: { replicas: 3, restoreFrom: source, storage: { size: '2Gi' } } },
});
const names = clusterNames('prod', 'web');
const owner = {
  apiVersion: 'clusters.kok.dev/v1alpha1',
  kind: 'Cluster',
  name: 'web',
  uid: 'u1',
  controller: true,
};

const claim = (
  ordinal: number,
  extra: Partial<V1PersistentVolumeClaim['metadata']> = {},
): V1PersistentVolumeClaim => ({
  metadata: { name: `data-web-etcd-${ordinal}`, ...extra },
});
const restored = (ordinal: number) =>
  claim(ordinal, {
    annotations: { [ETCD_RESTORED_FROM_ANNOTATION]: 'snapshots/prod/web/web-20261203T101500Z.db' },
  });
const pod = (
  ordinal: number,
  phase: string,
  from = 'snapshots/prod/web/web-20261203T101500Z.db',
  status: V1Pod['status'] = {},
): V1Pod => ({
  metadata: { name: `web-etcd-restore-${ordinal}`, annotations: { [ETCD_RESTORE_SOURCE_ANNOTATION]: from } },
  status: { phase, ...status },
});
const kinds = (actions: readonly RestoreAction[]) =>
  actions.map((a) =>
    a.kind === 'createClaim'
      ? `createClaim ${a.claim.metadata?.name}`
      : a.kind === 'createPod'
        ? `createPod ${a.pod.metadata?.name}`
        : a.kind === 'markRestored'
          ? `markRestored ${a.claim}`
          : `${a.kind} ${a.name}`,
  );

describe('planRestore', () => {
  const cases: [
    string,
    MemberRestoreState[],
    string[],
    { done: boolean; restoring: number; failed: number },
  ][] = [
    [
      'nothing yet: every member gets its volume and restore pod',
      [0, 1, 2].map(() => ({ claim: undefined, pod: undefined })),
      [
        'createClaim data-web-etcd-0',
        'createPod web-etcd-restore-0',
        'createClaim data-web-etcd-1',
        'createPod web-etcd-restore-1',
        'createClaim data-web-etcd-2',
        'createPod web-etcd-restore-2',
      ],
      { done: false, restoring: 3, failed: 0 },
    ],
    [
      'pods running: wait',
      [0, 1, 2].map((i) => ({ claim: claim(i), pod: pod(i, 'Running') })),
      [],
      { done: false, restoring: 3, failed: 0 },
    ],
    [
      'a pod succeeded: its volume is marked, the others wait',
      [
        { claim: claim(0), pod: pod(0, 'Succeeded') },
        { claim: claim(1), pod: pod(1, 'Pending') },
        { claim: claim(2), pod: pod(2, 'Running') },
      ],
      ['markRestored data-web-etcd-0'],
      { done: false, restoring: 3, failed: 0 },
    ],
    [
      'every volume marked: done, the pods left are deleted',
      [
        { claim: restored(0), pod: pod(0, 'Succeeded') },
        { claim: restored(1), pod: undefined },
        { claim: restored(2), pod: undefined },
      ],
      ['deletePod web-etcd-restore-0'],
      { done: true, restoring: 0, failed: 0 },
    ],
    [
      'a marked volume is never restored again, whatever its pod says (an operator restarted after marking it)',
      [
        { claim: restored(0), pod: pod(0, 'Failed') },
        { claim: restored(1), pod: undefined },
        { claim: restored(2), pod: undefined },
      ],
      ['deletePod web-etcd-restore-0'],
      { done: true, restoring: 0, failed: 0 },
    ],
    [
      'a failed pod is reported and left for a person: nothing deleted',
      [
        { claim: claim(0), pod: pod(0, 'Failed') },
        { claim: restored(1), pod: undefined },
        { claim: restored(2), pod: undefined },
      ],
      [],
      { done: false, restoring: 1, failed: 1 },
    ],
    [
      'a failed pod deleted by a person: a new one is made on the same volume',
      [
        { claim: claim(0), pod: undefined },
        { claim: restored(1), pod: undefined },
        { claim: restored(2), pod: undefined },
      ],
      ['createPod web-etcd-restore-0'],
      { done: false, restoring: 1, failed: 0 },
    ],
    [
      'a pod of another snapshot (restoreFrom changed): it and what it wrote go',
      [
        { claim: claim(0), pod: pod(0, 'Failed', 'snapshots/old.db') },
        { claim: claim(1), pod: pod(1, 'Succeeded', 'snapshots/old.db') },
        { claim: claim(2), pod: undefined },
      ],
      [
        'deletePod web-etcd-restore-0',
        'deleteClaim data-web-etcd-0',
        'deletePod web-etcd-restore-1',
        'deleteClaim data-web-etcd-1',
        'createPod web-etcd-restore-2',
      ],
      { done: false, restoring: 3, failed: 0 },
    ],
    [
      'a volume being deleted (or a marked one being deleted): wait for it to go',
      [
        { claim: restored(0), pod: undefined },
        { claim: claim(1, { deletionTimestamp: new Date() }), pod: undefined },
        {
          claim: { ...restored(2), metadata: { ...restored(2).metadata, deletionTimestamp: new Date() } },
          pod: undefined,
        },
      ],
      [],
      { done: false, restoring: 2, failed: 0 },
    ],
  ];
  it.each(cases)('%s', (_name, members, actions, outcome) => {
    const plan = planRestore(cluster, names, source, members, owner);
    expect(kinds(plan.actions)).toEqual(actions);
    expect({ done: plan.done, restoring: plan.restoring.length, failed: plan.failed.length }).toEqual(
      outcome,
    );
  });

  it('makes no restore pod while the snapshot claim is missing, and says so; volumes are made meanwhile', () => {
    const plan = planRestore(
      cluster,
      names,
      source,
      [
        { claim: restored(0), pod: undefined },
        { claim: undefined, pod: undefined },
        { claim: claim(2), pod: pod(2, 'Running') },
      ],
      owner,
      { sourceFound: false },
    );
    expect(kinds(plan.actions)).toEqual(['createClaim data-web-etcd-1']);
    expect(plan.sourceMissing).toBe(true);
    expect(plan.done).toBe(false);
    // Every volume restored already: the claim is no longer needed.
    const done = planRestore(
      cluster,
      names,
      source,
      [0, 1, 2].map((i) => ({ claim: restored(i), pod: undefined })),
      owner,
      { sourceFound: false },
    );
    expect(done).toMatchObject({ done: true, sourceMissing: false, actions: [] });
  });

  it('says why a restore pod waits', () => {
    const unschedulable = pod(0, 'Pending', undefined, {
      conditions: [
        {
          type: 'PodScheduled',
          status: 'False',
          reason: 'Unschedulable',
          message: '0/3 nodes are available',
        },
      ],
    });
    const pulling = pod(1, 'Pending', undefined, {
      containerStatuses: [
        {
          name: 'restore',
          image: '',
          imageID: '',
          ready: false,
          restartCount: 0,
          state: { waiting: { reason: 'ErrImagePull', message: 'no such image' } },
        },
      ],
    });
    const plan = planRestore(
      cluster,
      names,
      source,
      [
        { claim: claim(0), pod: unschedulable },
        { claim: claim(1), pod: pulling },
        { claim: claim(2), pod: pod(2, 'Running') },
      ],
      owner,
    );
    expect(plan.restoring).toEqual([
      'web-etcd-0 (pod web-etcd-restore-0 not scheduled: 0/3 nodes are available)',
      'web-etcd-1 (pod web-etcd-restore-1 ErrImagePull: no such image)',
      'web-etcd-2',
    ]);
  });

  it('says why a restore failed, from the pod it ran in', () => {
    const failedPod = pod(0, 'Failed', undefined, {
      containerStatuses: [
        {
          name: 'restore',
          image: '',
          imageID: '',
          ready: false,
          restartCount: 0,
          state: {
            terminated: {
              exitCode: 1,
              message: 'Error: open /snapshot/prod/web/x.db: no such file or directory\n',
            },
          },
        },
      ],
    });
    const plan = planRestore(cluster, names, source, [{ claim: claim(0), pod: failedPod }], owner);
    expect(plan.failed).toEqual([
      {
        member: 'web-etcd-0',
        pod: 'web-etcd-restore-0',
        message: 'Error: open /snapshot/prod/web/x.db: no such file or directory',
      },
    ]);
    expect(restoreFailedMessage(source, plan)).toContain('web-etcd-0 (pod web-etcd-restore-0): Error: open');
  });
});

describe('restorePod', () => {
  it('runs the etcd image the StatefulSet runs: by digest when the operator pins it', () => {
    const reference = etcdImage(cluster.etcd.version ?? '');
    expect(restorePod(cluster, names, 0, source, owner).spec?.containers[0]?.image).toBe(reference);
    const digest = `sha256:${'ab'.repeat(32)}`;
    const pinned = planRestore(cluster, names, source, [{ claim: claim(0), pod: undefined }], owner, {
      imageDigests: new Map([[reference, digest]]),
    });
    const created = pinned.actions.find((a) => a.kind === 'createPod');
    expect(created?.kind === 'createPod' && created.pod.spec?.containers[0]?.image).toBe(
      `${reference}@${digest}`,
    );
  });

  it('restores a member under the name, peer URL and cluster it runs with in the StatefulSet', () => {
    const p = restorePod(cluster, names, 1, source, owner);
    const container = p.spec?.containers[0];
    expect(p.spec?.restartPolicy).toBe('Never');
    // As the image's non-root user, group owner of the data volume (as etcd's pods are).
    expect(p.spec?.securityContext).toEqual({ fsGroup: 65532 });
    expect(container?.command).toEqual(['etcdutl']);
    expect(container?.args).toEqual([
      'snapshot',
      'restore',
      '/snapshot/prod/web/web-20261203T101500Z.db',
      '--name=web-etcd-1',
      '--initial-cluster=web-etcd-0=https://web-etcd-0.web-etcd.prod.svc:2380,web-etcd-1=https://web-etcd-1.web-etcd.prod.svc:2380,web-etcd-2=https://web-etcd-2.web-etcd.prod.svc:2380',
      '--initial-cluster-token=prod-web',
      '--initial-advertise-peer-urls=https://web-etcd-1.web-etcd.prod.svc:2380',
      '--data-dir=/var/lib/etcd',
    ]);
    expect(p.spec?.volumes).toEqual([
      { name: 'data', persistentVolumeClaim: { claimName: 'data-web-etcd-1' } },
      { name: 'snapshot', persistentVolumeClaim: { claimName: 'snapshots', readOnly: true } },
    ]);
    expect(p.metadata?.ownerReferences).toEqual([owner]);
    // Not an etcd member's label: the headless Service and the StatefulSet select those.
    expect(p.metadata?.labels?.['clusters.kok.dev/component']).toBe('etcd-restore');
  });
});
