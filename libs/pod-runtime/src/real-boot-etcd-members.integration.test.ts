// End to end on real etcd processes: the kube-on-kube-operator scales a Cluster's etcd 1 → 3 → 5 → 3
// through etcd's member API while a client keeps writing keys, then replaces a member whose volume
// and data are gone. Every write must succeed within a short retry (quorum never lost), and every
// acknowledged key must be there at the end.
import type { V1Pod } from '@kubernetes/client-node';
import { eventually } from '@kok/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClusterView, RealBoot } from './test-support/real-boot.ts';
import { startRealBoot } from './test-support/real-boot.ts';
import { etcdClientTls } from './test-support/etcd-gateway.ts';
import { loseEtcdMemberVolume } from './test-support/etcd-member-loss.ts';
import { etcdKeys, startEtcdWriter } from './test-support/etcd-writer.ts';

const namespace = 'biz';
const clusterName = 'grow';
const etcdName = `${clusterName}-etcd`;
/** How long one write may retry (a leader election, a member leaving) before it counts as failed. */
const writeRetryMs = 10_000;

let boot: RealBoot;

beforeAll(async () => {
  boot = await startRealBoot({ namespace, workDirPrefix: 'kok-etcd-members-' });
  // Claims of members 1…4, the ones made again after the scale down, and the replaced member's.
  await boot.addLocalVolumes(8);
});

afterAll(async () => {
  await boot?.stop();
});

const ref = { namespace, cluster: clusterName };
const clientTls = () => etcdClientTls(boot, ref);

const isReady = (pod: V1Pod) =>
  !pod.metadata?.deletionTimestamp &&
  pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');

interface EtcdStatus {
  members?: { name: string; id: string; isLearner: boolean; healthy: boolean }[];
  leader?: string;
}

const etcdStatus = async () =>
  ((await boot.getCluster(clusterName)) as ClusterView).status?.etcd as EtcdStatus | undefined;

const setReplicas = (replicas: number) =>
  boot.kubectl(
    '-n',
    namespace,
    'patch',
    'clusters.clusters.kok.dev',
    clusterName,
    '--type=merge',
    '-p',
    JSON.stringify({ spec: { etcd: { replicas } } }),
  );

/** status.etcd lists exactly members 0…n-1, every one a healthy voter, and the StatefulSet has n pods Ready. */
const membersSettle = (n: number) =>
  eventually(
    `${n} healthy voting members`,
    async () => {
      const etcd = await etcdStatus();
      const names = (etcd?.members ?? []).map((m) => m.name);
      const expected = Array.from({ length: n }, (_, i) => `${etcdName}-${i}`);
      const ready = (await boot.podsOf('etcd')).filter(isReady).length;
      return JSON.stringify(names) === JSON.stringify(expected) &&
        etcd?.members?.every((m) => m.healthy && !m.isLearner) &&
        etcd.leader &&
        ready === n
        ? etcd
        : undefined;
    },
    240_000,
    500,
  ).catch(async (error: unknown) => {
    throw new Error(
      `${String(error)}\nstatus.etcd: ${JSON.stringify(await etcdStatus())}\n${boot.containerLogs()}`,
    );
  });

describe('etcd members of a Cluster booted on real processes', () => {
  it('scales 1 → 3 → 5 → 3 and replaces a member whose data is gone, every write taken throughout', async () => {
    await boot.createCluster(clusterName);
    await membersSettle(1);
    const writer = startEtcdWriter(boot, ref, await clientTls(), { retryMs: writeRetryMs });
    try {
      for (const n of [3, 5, 3]) {
        setReplicas(n);
        await membersSettle(n);
      }
      // The removed members' volumes are deleted: their data must not come back under a new member.
      await eventually(
        'the volumes of members 3 and 4 deleted',
        async () => {
          const claims = await boot.core.listNamespacedPersistentVolumeClaim({ namespace });
          const names = claims.items.map((c) => c.metadata?.name);
          return !names.includes(`data-${etcdName}-3`) && !names.includes(`data-${etcdName}-4`);
        },
        60_000,
        500,
      );

      // Member 0 loses its disk: its claim, pod and data go. Member 0, the one listed first:
      // while it is a learner again, member changes must go to a voter (etcd refuses them on a learner).
      const before = (await etcdStatus())?.members?.find((m) => m.name === `${etcdName}-0`);
      expect(before?.id).toBeDefined();
      await loseEtcdMemberVolume(boot, namespace, `${etcdName}-0`);
      const replaced = await eventually(
        'member 0 replaced under a new id',
        async () => {
          const etcd = await etcdStatus();
          const member = etcd?.members?.find((m) => m.name === `${etcdName}-0`);
          return member && member.id !== before?.id ? member : undefined;
        },
        240_000,
        500,
      );
      expect(replaced.id).not.toBe(before?.id);
      await membersSettle(3);
    } finally {
      await writer.stop();
    }

    expect(writer.failed).toEqual([]);
    expect(writer.acknowledged.length).toBeGreaterThan(20);
    // Every acknowledged key is there, read back linearizably.
    const pod = (await boot.podsOf('etcd')).find(isReady);
    expect(pod).toBeDefined();
    const stored = await etcdKeys(pod as V1Pod, await clientTls(), ref, '/kok-test/');
    expect(writer.acknowledged.filter((key) => !stored.has(key))).toEqual([]);
  }, 900_000);
});
