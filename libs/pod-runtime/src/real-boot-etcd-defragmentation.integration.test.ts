// End to end on real etcd processes: a 3-member etcd of a Cluster run by the kube-on-kube-operator.
// Free space is made in etcd itself (keys written, deleted and compacted away through its API); with a
// low threshold on the Cluster, the operator defragments each member once, one at a time, the leader
// last, and every member's DB file shrinks. Then a NOSPACE alarm is raised in etcd through its
// maintenance API (ACTIVATE: etcd then refuses writes exactly as at its quota; the Cluster spec has no
// way to set --quota-backend-bytes, so the quota itself cannot be reached in a test of sensible length):
// the Cluster reports EtcdAlarm naming the member, with a Warning Event, and the alarm stays raised
// until the test disarms it.
import type { CoreV1Event, V1Pod } from '@kubernetes/client-node';
import { eventually } from '@kok/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RealBoot } from './test-support/real-boot.ts';
import { startRealBoot } from './test-support/real-boot.ts';
import type { EtcdClientTls } from './test-support/etcd-gateway.ts';
import { etcdClientTls, etcdGatewayCall } from './test-support/etcd-gateway.ts';

const namespace = 'biz';
const clusterName = 'frag';
const etcdName = `${clusterName}-etcd`;
const MiB = 1024 * 1024;
/** The Cluster's threshold: far above what a booting control plane leaves free, far below what the test frees. */
const freeSpaceBytes = 4 * MiB;

let boot: RealBoot;

beforeAll(async () => {
  boot = await startRealBoot({ namespace, workDirPrefix: 'kok-etcd-defrag-' });
  await boot.addLocalVolumes(2);
});

afterAll(async () => {
  await boot?.stop();
});

const ref = { namespace, cluster: clusterName };
type Tls = EtcdClientTls;
const clientTls = () => etcdClientTls(boot, ref);
const etcdCall = (pod: V1Pod, tls: Tls, path: string, body: object) =>
  etcdGatewayCall(pod, tls, ref, path, body);

const b64 = (text: string) => Buffer.from(text).toString('base64');
const isReady = (pod: V1Pod) =>
  !pod.metadata?.deletionTimestamp &&
  pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');

const clusterStatus = async () => (await boot.getCluster(clusterName)).status;

/** Each member's own view, by pod name: its id, the leader's id, its DB file and the part in use. */
async function memberStatuses(tls: Tls) {
  const pods = (await boot.podsOf('etcd')).filter(isReady);
  return new Map(
    await Promise.all(
      pods.map(async (pod) => {
        const s = await etcdCall(pod, tls, '/v3/maintenance/status', {});
        const header = s['header'] as { member_id: string };
        return [
          pod.metadata?.name ?? '',
          {
            id: header.member_id,
            leader: String(s['leader']),
            dbSize: Number(s['dbSize']),
            inUse: Number(s['dbSizeInUse']),
          },
        ] as const;
      }),
    ),
  );
}

const eventsOf = async (reason: string): Promise<CoreV1Event[]> =>
  (
    await boot.core.listNamespacedEvent({
      namespace,
      fieldSelector: `involvedObject.name=${clusterName},reason=${reason}`,
    })
  ).items;
const eventTime = (event: CoreV1Event) =>
  new Date(event.eventTime ?? event.firstTimestamp ?? event.metadata?.creationTimestamp ?? 0).getTime();

describe('etcd defragmentation and alarms of a Cluster booted on real processes', () => {
  it('defragments each member once free space passes the threshold, one at a time, the leader last', async () => {
    await boot.createCluster(clusterName, {
      etcd: {
        replicas: 3,
        storage: { size: '1Gi', storageClassName: 'local' },
        defragmentation: { freeSpacePercent: 10, freeSpaceBytes },
      },
    });
    await eventually(
      '3 healthy voting members',
      async () => {
        const etcd = (await clusterStatus())?.etcd;
        const ready = (await boot.podsOf('etcd')).filter(isReady).length;
        return (
          etcd?.members?.length === 3 && etcd.members.every((m) => m.healthy && !m.isLearner) && ready === 3
        );
      },
      300_000,
      1_000,
    ).catch((error: unknown) => {
      throw new Error(`${String(error)}\n${boot.containerLogs()}`);
    });
    const tls = await clientTls();
    // Nothing is defragmented before there is space to give back.
    expect(await eventsOf('EtcdDefragmented')).toEqual([]);

    // ~20 MiB written, deleted and compacted away: free pages in every member's DB file.
    const pod = (await boot.podsOf('etcd')).find(isReady) as V1Pod;
    const value = Buffer.alloc(100_000, 'x').toString('base64');
    for (let i = 0; i < 200; i++)
      await etcdCall(pod, tls, '/v3/kv/put', { key: b64(`/kok-frag/${String(i).padStart(4, '0')}`), value });
    const deleted = await etcdCall(pod, tls, '/v3/kv/deleterange', {
      key: b64('/kok-frag/'),
      range_end: b64('/kok-frag0'),
    });
    const revision = (deleted['header'] as { revision: string }).revision;
    await etcdCall(pod, tls, '/v3/kv/compaction', { revision, physical: true });
    const before = await eventually(
      'every member with the freed space',
      async () => {
        const statuses = await memberStatuses(tls);
        return statuses.size === 3 &&
          [...statuses.values()].every((s) => s.dbSize - s.inUse >= 4 * freeSpaceBytes)
          ? statuses
          : undefined;
      },
      60_000,
      1_000,
    );

    // The operator looks at least once a minute; each member then takes a pass.
    const events = await eventually(
      'three EtcdDefragmented Events',
      async () => {
        const found = await eventsOf('EtcdDefragmented');
        return found.length >= 3 ? found : undefined;
      },
      300_000,
      2_000,
    ).catch(async (error: unknown) => {
      throw new Error(`${String(error)}\nstatus.etcd: ${JSON.stringify((await clusterStatus())?.etcd)}`);
    });
    const ordered = [...events].sort((a, b) => eventTime(a) - eventTime(b));
    const named = ordered.map((e) => /etcd member (\S+)/.exec(e.message ?? '')?.[1]);
    expect(new Set(named)).toEqual(new Set([0, 1, 2].map((i) => `${etcdName}-${i}`)));
    expect(ordered.every((e) => e.type === 'Normal')).toBe(true);
    // The leader (as each member saw it before) last, its followers before.
    const leaderId = [...before.values()][0]?.leader;
    const leader = [...before.entries()].find(([, s]) => s.id === leaderId)?.[0];
    expect(named[2]).toBe(leader);
    expect(ordered[2]?.message).toContain('(the leader)');
    // One at a time: each began (its Event's time less the duration it reports) after the one before ended.
    const durationMs = (e: CoreV1Event) => Number(/in ([\d.]+) s/.exec(e.message ?? '')?.[1] ?? NaN) * 1000;
    for (let i = 1; i < ordered.length; i++) {
      const began = eventTime(ordered[i] as CoreV1Event) - durationMs(ordered[i] as CoreV1Event);
      // The reported duration is rounded to 0.1 s.
      expect(began + 100).toBeGreaterThanOrEqual(eventTime(ordered[i - 1] as CoreV1Event));
    }
    // Every member's DB file gave its free space back.
    const after = await memberStatuses(tls);
    for (const [name, was] of before) {
      const now = after.get(name);
      expect(now?.dbSize, name).toBeLessThan(was.dbSize - 2 * freeSpaceBytes);
    }
    // Once each: the members are not defragmented again within the minimum interval.
    expect(await eventsOf('EtcdDefragmented')).toHaveLength(3);
  }, 900_000);

  it('reports a NOSPACE alarm as EtcdAlarm naming the member, with a Warning Event, and never disarms it', async () => {
    const tls = await clientTls();
    const statuses = await memberStatuses(tls);
    const member = `${etcdName}-1`;
    const memberID = statuses.get(member)?.id;
    expect(memberID).toBeDefined();
    const pod = (await boot.podsOf('etcd')).find((p) => p.metadata?.name === `${etcdName}-0`) as V1Pod;
    await etcdCall(pod, tls, '/v3/maintenance/alarm', { action: 'ACTIVATE', memberID, alarm: 'NOSPACE' });
    // etcd acts on it as on a real quota: writes are refused.
    await expect(
      etcdCall(pod, tls, '/v3/kv/put', { key: b64('/kok-frag/x'), value: b64('x') }),
    ).rejects.toThrow(/database space exceeded/);

    const alarm = await eventually(
      'EtcdAlarm True with reason NOSPACE',
      async () =>
        (await clusterStatus())?.conditions?.find(
          (c) => c.type === 'EtcdAlarm' && c.status === 'True' && c.reason === 'NOSPACE',
        ),
      150_000,
      1_000,
    );
    expect(alarm.message).toContain(`etcd ${member} raised NOSPACE`);
    expect(alarm.message).toContain('etcdctl alarm disarm');
    expect((await clusterStatus())?.etcd?.alarms).toEqual([{ member, alarm: 'NOSPACE' }]);
    const warnings = await eventsOf('EtcdAlarm');
    expect(warnings.map((e) => [e.type, e.message])).toEqual([['Warning', alarm.message]]);

    // The membership, settled all along, says so.
    expect((await clusterStatus())?.conditions?.find((c) => c.type === 'EtcdMembership')).toMatchObject({
      status: 'True',
      reason: 'AsDesired',
    });
    // Still raised after the operator read and reported it: it never disarms.
    const raised = await etcdCall(pod, tls, '/v3/maintenance/alarm', { action: 'GET' });
    expect(raised['alarms']).toEqual([{ memberID, alarm: 'NOSPACE' }]);

    // Disarmed by a person: the condition lifts.
    await etcdCall(pod, tls, '/v3/maintenance/alarm', { action: 'DEACTIVATE', memberID, alarm: 'NOSPACE' });
    await eventually(
      'EtcdAlarm False',
      async () =>
        (await clusterStatus())?.conditions?.find((c) => c.type === 'EtcdAlarm' && c.status === 'False'),
      150_000,
      1_000,
    );
  }, 600_000);
});
