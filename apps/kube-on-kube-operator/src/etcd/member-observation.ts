/**
 * What a Cluster's etcd says about itself: its members (from a linearizable
 * member list), whether each answers for itself, the leader, the DB size and
 * the alarms. Read through the member API (member-api.ts) at most once per
 * REFRESH_MS per Cluster: each read dials every member, and a member that does
 * not answer costs a timeout.
 */
import type { V1Pod, V1Secret } from '@kubernetes/client-node';
import type { KubeClient } from '@kok/reconcile';
import { builtinTypes } from '@kok/reconcile';
import { persistentVolumeClaimType } from '../resource-types.ts';
import { ETCD_CLIENT_PORT } from '../components/services.ts';
import type { ClusterNames } from '../names.ts';
import { selectorLabels } from '../names.ts';
import { TRUST_BUNDLE_KEY } from '../pki/pki-material.ts';
import type {
  EtcdAlarm,
  EtcdClientTls,
  EtcdMember,
  EtcdMemberStatus,
  EtcdTarget,
  MemberApi,
} from './member-api.ts';
import { memberApi } from './member-api.ts';

export interface EtcdMemberReport {
  /** The member's name: the pod's (`<cluster>-etcd-<ordinal>`). */
  name: string;
  /** Decimal uint64. */
  id: string;
  isLearner: boolean;
  /** The member answered for itself, under this id, without errors. */
  healthy: boolean;
  /** It has started once: etcd lists it with its name. */
  started: boolean;
  peerURL: string;
  /** Its DB file, and the part of it in use, as it answered; absent when it did not. */
  dbSizeBytes?: number;
  dbSizeInUseBytes?: number;
}

/** On an etcd member's volume claim: the id of the member whose data it holds, once that member answered. */
export const ETCD_MEMBER_ID_ANNOTATION = 'clusters.kok.dev/etcd-member-id';

/** A member volume claim that exists and is not being deleted. */
export interface EtcdClaim {
  ordinal: number;
  name: string;
  /** ETCD_MEMBER_ID_ANNOTATION. */
  memberId?: string;
}

export interface EtcdObservation {
  /** Ordered by name. */
  members: EtcdMemberReport[];
  /** The leader's name, when the members that answered name one that is listed. */
  leader?: string;
  /** The largest DB file of the members that answered. */
  dbSizeBytes?: number;
  alarms: { member: string; alarm: string }[];
  /** The pods that answered: where to send a member change. */
  pods: EtcdMemberPod[];
  claims: EtcdClaim[];
}

/**
 * Where to send a member change: the leader's pod, else a voting member's. Never a learner's: etcd refuses
 * member changes on a learner ("rpc not supported for learner"), and a learner listed first would stall them.
 */
export function memberChangeTarget(observation: EtcdObservation): EtcdMemberPod | undefined {
  const voters = new Set(observation.members.filter((m) => !m.isLearner).map((m) => m.name));
  return (
    observation.pods.find((pod) => pod.name === observation.leader) ??
    observation.pods.find((pod) => voters.has(pod.name))
  );
}

/** A listed member's name: its own once started; before, the pod name in its peer URL. */
export function memberNameOf(member: EtcdMember): string {
  if (member.name) return member.name;
  const url = member.peerURLs?.[0];
  if (!url) return '';
  try {
    return new URL(url).hostname.split('.')[0] ?? '';
  } catch {
    return '';
  }
}

/**
 * How a member's status lists a raised NOSPACE alarm among its errors (every member lists every alarm of
 * the cluster). It says nothing of that member's health, and is reported as an alarm: a member that
 * answers with it stays healthy, so that it can be defragmented, which is how its space comes back.
 */
const NOSPACE_ALARM_ERROR = /^memberID:\d+ alarm:NOSPACE\s*$/;

/** Pure: the member list, each member's own status by name (undefined: no answer), and the alarms. */
export function etcdObservationOf(
  members: readonly EtcdMember[],
  statusOf: ReadonlyMap<string, EtcdMemberStatus>,
  alarms: readonly EtcdAlarm[],
): EtcdObservation {
  const reports = members
    .map((m): EtcdMemberReport => {
      const name = memberNameOf(m);
      const own = statusOf.get(name);
      // A pod that answers under another id is a different member started in this one's place.
      const healthy =
        own !== undefined &&
        own.header?.member_id === m.ID &&
        (own.errors ?? []).every((e) => NOSPACE_ALARM_ERROR.test(e));
      return {
        name,
        id: m.ID,
        isLearner: m.isLearner === true,
        healthy,
        started: Boolean(m.name),
        peerURL: m.peerURLs?.[0] ?? '',
        ...(healthy ? bytesOf(own) : {}),
      };
    })
    .sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }));
  const answered = reports.flatMap((r) => (r.healthy ? [statusOf.get(r.name)] : []));
  const leaderId = answered.find((s) => s?.leader && s.leader !== '0')?.leader;
  const leader = reports.find((r) => r.id === leaderId)?.name;
  const sizes = answered.map((s) => Number(s?.dbSize ?? NaN)).filter((n) => Number.isFinite(n));
  const nameOfId = (id: string | undefined) => reports.find((r) => r.id === id)?.name ?? id ?? '';
  return {
    members: reports,
    ...(leader ? { leader } : {}),
    ...(sizes.length > 0 ? { dbSizeBytes: Math.max(...sizes) } : {}),
    alarms: alarms.map((a) => ({ member: nameOfId(a.memberID), alarm: a.alarm ?? 'NONE' })),
    pods: [],
    claims: [],
  };
}

function bytesOf(
  status: EtcdMemberStatus | undefined,
): Pick<EtcdMemberReport, 'dbSizeBytes' | 'dbSizeInUseBytes'> {
  const size = Number(status?.dbSize ?? NaN);
  const inUse = Number(status?.dbSizeInUse ?? NaN);
  return {
    ...(Number.isFinite(size) ? { dbSizeBytes: size } : {}),
    ...(Number.isFinite(inUse) ? { dbSizeInUseBytes: inUse } : {}),
  };
}

/** The client TLS from the etcd CA's trust bundle and the apiserver's etcd client certificate, once both exist. */
export function etcdClientTlsOf(
  names: ClusterNames,
  secrets: ReadonlyMap<string, V1Secret>,
): EtcdClientTls | undefined {
  const text = (secret: string, key: string) => {
    const value = secrets.get(secret)?.data?.[key];
    return value ? Buffer.from(value, 'base64').toString('utf8') : undefined;
  };
  const ca = text(names.secrets.etcdCA, TRUST_BUNDLE_KEY);
  const cert = text(names.secrets.apiServerEtcdClient, 'tls.crt');
  const key = text(names.secrets.apiServerEtcdClient, 'tls.key');
  return ca && cert && key ? { ca, cert, key } : undefined;
}

/** A member's pod that can be dialled: it has an address and is not going away. */
export interface EtcdMemberPod {
  name: string;
  target: EtcdTarget;
}

/** The ordinal in a member, pod or claim name ending `<statefulSet>-<ordinal>`. */
export function ordinalOf(name: string, statefulSet: string): number | undefined {
  const match = new RegExp(`(?:^|-)${statefulSet}-(\\d+)$`).exec(name);
  return match ? Number(match[1]) : undefined;
}

const etcdSelector = (names: ClusterNames) =>
  Object.entries(selectorLabels(names.cluster, 'etcd'))
    .map(([k, v]) => `${k}=${v}`)
    .join(',');

export async function etcdClaims(client: KubeClient, names: ClusterNames): Promise<EtcdClaim[]> {
  const { items } = await client.list(persistentVolumeClaimType, {
    namespace: names.namespace,
    labelSelector: etcdSelector(names),
  });
  return items.flatMap((claim) => {
    const name = claim.metadata?.name ?? '';
    if (claim.metadata?.deletionTimestamp || !name.startsWith(`data-${names.etcd}-`)) return [];
    const ordinal = ordinalOf(name, names.etcd);
    const memberId = claim.metadata?.annotations?.[ETCD_MEMBER_ID_ANNOTATION];
    return ordinal === undefined ? [] : [{ ordinal, name, ...(memberId ? { memberId } : {}) }];
  });
}

/**
 * How the operator reaches etcd members: `endpoint` at their DNS names (what the apiserver dials; they
 * resolve inside the meta-cluster, where the chart runs the operator), `pod-ip` at their pods' addresses
 * (an operator outside, with pod addresses routable to it, e.g. the local pod runtime).
 */
export type EtcdDialMode = 'endpoint' | 'pod-ip';
export const ETCD_DIAL_MODES: readonly EtcdDialMode[] = ['endpoint', 'pod-ip'];

export async function etcdMemberPods(
  client: KubeClient,
  names: ClusterNames,
  dial: EtcdDialMode,
): Promise<EtcdMemberPod[]> {
  const { items } = await client.list(builtinTypes.pod, {
    namespace: names.namespace,
    labelSelector: etcdSelector(names),
  });
  return memberPodTargets(items, names, dial);
}

/**
 * Pure: where to dial each member pod that is not being deleted. Not before the pod has an address: its
 * name cannot resolve yet, and asking would leave a negative answer in the cluster DNS's cache (30 s in
 * kubeadm's CoreDNS) for the apiserver, which dials that name next.
 */
export function memberPodTargets(
  pods: readonly V1Pod[],
  names: ClusterNames,
  dial: EtcdDialMode,
): EtcdMemberPod[] {
  return pods.flatMap((pod) => {
    const name = pod.metadata?.name ?? '';
    const ordinal = ordinalOf(name, names.etcd);
    const podIP = pod.status?.podIP;
    if (ordinal === undefined || pod.metadata?.deletionTimestamp || !podIP) return [];
    const serverName = names.etcdMemberHost(ordinal);
    const address = dial === 'pod-ip' ? podIP : serverName;
    return [{ name, target: { address, port: ETCD_CLIENT_PORT, serverName } }];
  });
}

/** Reads the members through whichever pod answers first; undefined when none does. */
export async function readEtcd(
  pods: readonly EtcdMemberPod[],
  tls: EtcdClientTls,
  api: (target: EtcdTarget, tls: EtcdClientTls) => MemberApi = memberApi,
): Promise<EtcdObservation | undefined> {
  const statuses = await Promise.all(
    pods.map((pod) =>
      api(pod.target, tls)
        .status()
        .then(
          (status) => [pod.name, status] as const,
          () => undefined,
        ),
    ),
  );
  const statusOf = new Map(statuses.flatMap((s) => (s ? [s] : [])));
  // Only members that answered are asked (one that did not would cost another timeout); the list is
  // linearizable, so any member's is the cluster's.
  const answered = pods.filter((pod) => statusOf.has(pod.name));
  for (const pod of answered) {
    try {
      const member = api(pod.target, tls);
      const [members, alarms] = await Promise.all([member.list(), member.alarms()]);
      return { ...etcdObservationOf(members, statusOf, alarms), pods: answered };
    } catch {
      // The next pod may answer.
    }
  }
  return undefined;
}

/** How long a read stands for a Cluster before its members are dialled again. */
export const REFRESH_MS = 10_000;

/** Reads each Cluster's etcd at most once per REFRESH_MS; `forget` makes the next read fresh (after a change). */
export class EtcdObserver {
  readonly #last = new Map<string, { at: number; observation: EtcdObservation | undefined }>();
  readonly #read: (names: ClusterNames, tls: EtcdClientTls) => Promise<EtcdObservation | undefined>;

  constructor(read: (names: ClusterNames, tls: EtcdClientTls) => Promise<EtcdObservation | undefined>) {
    this.#read = read;
  }

  async observe(
    key: string,
    names: ClusterNames,
    tls: EtcdClientTls,
    now: Date,
  ): Promise<EtcdObservation | undefined> {
    const last = this.#last.get(key);
    if (last && now.getTime() - last.at < REFRESH_MS) return last.observation;
    const observation = await this.#read(names, tls);
    this.#last.set(key, { at: now.getTime(), observation });
    return observation;
  }

  forget(key: string): void {
    this.#last.delete(key);
  }
}

/** Reads through the meta-cluster's pods of the Cluster's etcd, dialled as `dial` says. */
export const etcdObserver = (client: KubeClient, dial: EtcdDialMode = 'endpoint'): EtcdObserver =>
  new EtcdObserver(async (names, tls) => {
    const [pods, claims] = await Promise.all([
      etcdMemberPods(client, names, dial),
      etcdClaims(client, names),
    ]);
    const observation = await readEtcd(pods, tls);
    return observation && { ...observation, claims };
  });
