// An etcd member whose volume is lost, replaced by the kube-on-kube-operator, on real processes. The
// operator runs as a process with its shipped defaults; the local pod runtime runs the Cluster's etcd
// (3 members), apiserver, controller-manager and scheduler as processes. One Cluster, born with three
// members; a client writes one key after another through whichever member is Ready (each retried for up
// to 10 s before it counts as failed) for the whole run. Each of --runs runs, one after another in that
// Cluster (so later runs replace members that were replaced before):
//   1. headline: a follower's claim and pod deleted and, once the pod is gone, its volume's data →
//      status.etcd lists it under a new member id, every member a healthy voter, three pods Ready (the
//      operator removes the old member, adds the new one as a learner, promotes it);
//   2. baseline: another follower's pod deleted with its volume kept (a plain restart: same id, its data
//      there) → the same state again. ratio = replace / restart.
// Write latencies (retries included) in the 10 s before the disruptions and during them, and whether every
// acknowledged key is in etcd at the end. Medians of --runs. What it leaves out: a member with much data
// to catch up on; the leader; a real disk and network (one machine, its loopback network and its
// temporary directory).
//   --runs=<n>  replacements, each followed by a restart (default 3)
import { isReadyPod } from '@kok/pod-runtime/api-client-probe';
import { etcdClientTls } from '@kok/pod-runtime/etcd-gateway';
import { loseEtcdMemberVolume } from '@kok/pod-runtime/etcd-member-loss';
import { etcdKeys, startEtcdWriter } from '@kok/pod-runtime/etcd-writer';
import { startRealBoot, type RealBoot } from '@kok/pod-runtime/real-boot';
import { eventually } from '@kok/testing';
import { median, percentile, round } from './statistics.ts';

const numberFlag = (name: string, fallback: number): number =>
  Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback);
const runs = numberFlag('runs', 3);
const baselineMs = 10_000;
const namespace = 'bench-members';
const name = 'members';
const etcdName = `${name}-etcd`;
const ref = { namespace, cluster: name };
const log = (message: string): void => void process.stderr.write(`[etcd-member-replace] ${message}\n`);

interface Member {
  name: string;
  id: string;
  isLearner: boolean;
  healthy: boolean;
}

async function etcdStatus(): Promise<{ members?: Member[]; leader?: string } | undefined> {
  return (await boot.getCluster(name)).status?.etcd;
}

/** Waits until the three members are healthy voters with three pods Ready and `member` has an id `accept`s. */
async function settled(member: string, accept: (id: string) => boolean, pollMs = 100): Promise<Member[]> {
  return eventually(
    `3 healthy voting members, ${member} as wanted`,
    async () => {
      const members = (await etcdStatus())?.members ?? [];
      const ready = (await boot.podsOf('etcd')).filter(isReadyPod).length;
      const target = members.find((m) => m.name === member);
      return members.length === 3 &&
        members.every((m) => m.healthy && !m.isLearner) &&
        target &&
        accept(target.id) &&
        ready === 3
        ? members
        : undefined;
    },
    300_000,
    pollMs,
  ).catch((error: unknown) => {
    throw new Error(`${String(error)}\n${boot.logs.slice(-30).join('\n')}\n${boot.containerLogs()}`);
  });
}

/** A follower other than `except`, if there is one. */
async function follower(except?: string): Promise<Member> {
  const etcd = await etcdStatus();
  const followers = etcd?.members?.filter((m) => m.name !== etcd.leader) ?? [];
  const found = followers.find((m) => m.name !== except) ?? followers[0];
  if (!found) throw new Error(`no follower: ${JSON.stringify(etcd)}`);
  return found;
}

/** Deletes the member's pod, with its claim and its volume's data when `loseVolume`. */
async function disrupt(member: string, loseVolume: boolean): Promise<void> {
  if (loseVolume) await loseEtcdMemberVolume(boot, namespace, member);
  else await boot.core.deleteNamespacedPod({ name: member, namespace });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface RunResult {
  replaced: number[];
  restarted: number[];
  baselineLatencies: number[];
  during: number[];
  writes: number;
  failed: number;
  failedBefore: number;
  everyAcknowledgedKeyStored: boolean;
}

/** One Cluster of 3 members: --runs times a follower replaced, then another restarted, a client writing throughout. */
async function measure(): Promise<RunResult> {
  // Members 0-2, then one new volume per replacement.
  await boot.addLocalVolumes(2 + runs);
  await boot.createCluster(name, {
    etcd: { replicas: 3, storage: { size: '1Gi', storageClassName: 'local' } },
  });
  await settled(`${etcdName}-0`, () => true, 500);
  const tls = await etcdClientTls(boot, ref);
  const writer = startEtcdWriter(boot, ref, tls, { prefix: '/bench/' });
  await sleep(baselineMs);
  const baselineLatencies = [...writer.latenciesMs];
  const failedBefore = writer.failed.length;
  const replaced: number[] = [];
  const restarted: number[] = [];
  try {
    let lastLost: string | undefined;
    for (let run = 0; run < runs; run++) {
      const lost = await follower(lastLost);
      let began = performance.now();
      await disrupt(lost.name, true);
      await settled(lost.name, (id) => id !== lost.id);
      replaced.push((performance.now() - began) / 1000);
      lastLost = lost.name;

      const restart = await follower(lost.name);
      began = performance.now();
      await disrupt(restart.name, false);
      // A restarted pod is Ready again once etcd answers: wait for it to go first.
      await eventually(
        `${restart.name} not Ready`,
        async () =>
          !(await boot.podsOf('etcd')).some((p) => p.metadata?.name === restart.name && isReadyPod(p)),
        60_000,
        50,
      ).catch(() => undefined);
      await settled(restart.name, (id) => id === restart.id);
      restarted.push((performance.now() - began) / 1000);
      log(
        `run ${run + 1}/${runs}: ${lost.name} replaced in ${round(replaced[run] ?? 0)} s; ` +
          `${restart.name} restarted in ${round(restarted[run] ?? 0)} s`,
      );
    }
  } finally {
    await writer.stop();
  }
  const pod = (await boot.podsOf('etcd')).find(isReadyPod);
  const stored = pod ? await etcdKeys(pod, tls, ref, '/bench/') : new Set<string>();
  return {
    replaced,
    restarted,
    baselineLatencies,
    during: writer.latenciesMs.slice(baselineLatencies.length),
    writes: writer.acknowledged.length,
    failed: writer.failed.length,
    failedBefore,
    everyAcknowledgedKeyStored: writer.acknowledged.every((key) => stored.has(key)),
  };
}

const boot: RealBoot = await startRealBoot({ namespace, workDirPrefix: 'kok-bench-members-' });
const result = await measure().finally(() => boot.stop());

const replaceSeconds = median(result.replaced);
const restartSeconds = median(result.restarted);

console.log(
  JSON.stringify({
    benchmark: 'etcd-member-replace',
    runs,
    members: 3,
    runtime:
      'local pod runtime: etcd (3 members), kube-apiserver, kube-controller-manager, kube-scheduler as processes',
    replaceSecondsMedian: round(replaceSeconds),
    replaceSeconds: result.replaced.map((s) => round(s)),
    restartSecondsMedian: round(restartSeconds),
    restartSeconds: result.restarted.map((s) => round(s)),
    replaceToRestart: round(replaceSeconds / restartSeconds),
    writes: result.writes,
    failedWrites: result.failed,
    failedWritesBeforeRuns: result.failedBefore,
    p99WriteMsBefore: round(percentile(result.baselineLatencies, 0.99), 1),
    p99WriteMsDuring: round(percentile(result.during, 0.99), 1),
    maxWriteMsDuring: Math.max(0, ...result.during),
    everyAcknowledgedKeyStored: result.everyAcknowledgedKeyStored,
  }),
);
