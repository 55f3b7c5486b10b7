// End to end on real etcd processes: a Cluster born with three members loses a member's volume right
// after it settles, and then loses it again. Both times the member must be replaced under a new id while
// a client keeps writing. Right after bring-up is the hard case: the join Secret was last written at
// bootstrap, with the full initial cluster, and a member that lost its data must not find that list
// (it would join again under its old id and leave that data behind for its replacement).
import type { V1Pod } from '@kubernetes/client-node';
import { eventually } from '@kok/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isReadyPod } from './test-support/api-client-probe.ts';
import { etcdClientTls } from './test-support/etcd-gateway.ts';
import { loseEtcdMemberVolume } from './test-support/etcd-member-loss.ts';
import { etcdKeys, startEtcdWriter } from './test-support/etcd-writer.ts';
import type { ClusterView, RealBoot } from './test-support/real-boot.ts';
import { startRealBoot } from './test-support/real-boot.ts';

const namespace = 'biz';
const clusterName = 'replace';
const etcdName = `${clusterName}-etcd`;
const writeRetryMs = 10_000;

let boot: RealBoot;

beforeAll(async () => {
  boot = await startRealBoot({ namespace, workDirPrefix: 'kok-etcd-member-replace-' });
  // Members 1 and 2, and two replacements of member 0.
  await boot.addLocalVolumes(4);
});

afterAll(async () => {
  await boot?.stop();
});

const ref = { namespace, cluster: clusterName };

interface EtcdMemberView {
  name: string;
  id: string;
  isLearner: boolean;
  healthy: boolean;
}

const membersOf = async () =>
  ((
    ((await boot.getCluster(clusterName)) as ClusterView).status?.etcd as
      { members?: EtcdMemberView[] } | undefined
  )?.members ?? []) as EtcdMemberView[];

/** Every member a healthy voter, three pods Ready; the members by name. */
const threeHealthyVoters = () =>
  eventually(
    'three healthy voting members',
    async () => {
      const members = await membersOf();
      const ready = (await boot.podsOf('etcd')).filter(isReadyPod).length;
      return members.length === 3 && members.every((m) => m.healthy && !m.isLearner) && ready === 3
        ? new Map(members.map((m) => [m.name, m.id]))
        : undefined;
    },
    240_000,
    500,
  ).catch(async (error: unknown) => {
    throw new Error(
      `${String(error)}\nstatus.etcd.members: ${JSON.stringify(await membersOf())}\n${boot.containerLogs()}`,
    );
  });

/** The join Secret's keys once no learner waits: only the state, so a member without data has nobody to join. */
const joinSecretKeys = async () => {
  const secret = await boot.core.readNamespacedSecret({ name: `${clusterName}-etcd-join`, namespace });
  return Object.keys(secret.data ?? {}).sort();
};

describe('an etcd member of a three-member Cluster replaced right after bring-up, and again', () => {
  it('is replaced under a new id each time, every write taken', async () => {
    await boot.createCluster(clusterName, {
      etcd: { replicas: 3, storage: { size: '1Gi', storageClassName: 'local' } },
    });
    const born = await threeHealthyVoters();
    await eventually('the join Secret without the bootstrap list', async () =>
      JSON.stringify(await joinSecretKeys()) === JSON.stringify(['initial-cluster-state']) ? true : undefined,
    );
    const writer = startEtcdWriter(boot, ref, await etcdClientTls(boot, ref), { retryMs: writeRetryMs });
    const ids: string[] = [born.get(`${etcdName}-0`) ?? ''];
    try {
      for (const loss of [1, 2]) {
        await loseEtcdMemberVolume(boot, namespace, `${etcdName}-0`);
        const members = await threeHealthyVoters();
        const id = members.get(`${etcdName}-0`) ?? '';
        expect(ids, `replacement ${loss} took an id of before`).not.toContain(id);
        ids.push(id);
        // The other members were never touched.
        expect(members.get(`${etcdName}-1`)).toBe(born.get(`${etcdName}-1`));
        expect(members.get(`${etcdName}-2`)).toBe(born.get(`${etcdName}-2`));
      }
    } finally {
      await writer.stop();
    }
    expect(writer.failed).toEqual([]);
    const pod = (await boot.podsOf('etcd')).find(isReadyPod);
    const stored = await etcdKeys(pod as V1Pod, await etcdClientTls(boot, ref), ref, '/kok-test/');
    expect(writer.acknowledged.filter((key) => !stored.has(key))).toEqual([]);
  }, 900_000);
});
