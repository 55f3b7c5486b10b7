/**
 * etcd's v3 API as JSON through its grpc-gateway (the paths and field names of
 * etcd 3.6: uint64 ids are decimal strings, fields a server leaves at their
 * zero value are absent), over mTLS with the apiserver's etcd client
 * certificate. A member is dialled at its pod's address and verified under its
 * DNS name through the headless Service, which the serving certificate names:
 * that works wherever the operator runs, in the meta-cluster or beside it.
 */
import { request } from 'node:https';

/** The client certificate and the CA bundle the members' serving certificates are checked against. */
export interface EtcdClientTls {
  ca: string;
  cert: string;
  key: string;
}

/** Where one member answers: dial `address`, verify the certificate for `serverName`. */
export interface EtcdTarget {
  address: string;
  port: number;
  serverName: string;
}

export interface EtcdMember {
  /** Decimal uint64. */
  ID: string;
  /** Empty until the member first started. */
  name?: string;
  peerURLs?: string[];
  clientURLs?: string[];
  isLearner?: boolean;
}

export interface EtcdMemberStatus {
  /** revision: the member's latest revision, as a decimal string. */
  header?: { member_id?: string; revision?: string };
  leader?: string;
  /** Bytes, as a decimal string. */
  dbSize?: string;
  /** Bytes of the DB file in use, as a decimal string: the rest is free space a defragmentation returns. */
  dbSizeInUse?: string;
  isLearner?: boolean;
  errors?: string[];
}

export interface EtcdAlarm {
  memberID?: string;
  /** NOSPACE or CORRUPT. */
  alarm?: string;
}

/** How long one call may take: a member that does not answer by then counts as unhealthy. */
export const ETCD_CALL_TIMEOUT_MS = 2_000;

/** How long a defragmentation may take before it counts as failed (etcd goes on with it regardless). */
export const DEFRAGMENT_TIMEOUT_MS = 5 * 60_000;

/** One POST to the gateway; rejects with the server's message on a non-2xx answer. */
export function etcdCall<T>(
  target: EtcdTarget,
  tls: EtcdClientTls,
  path: string,
  body: object,
  timeoutMs = ETCD_CALL_TIMEOUT_MS,
): Promise<T> {
  const payload = JSON.stringify(body);
  return new Promise<T>((resolve, reject) => {
    const req = request(
      {
        host: target.address,
        port: target.port,
        method: 'POST',
        path,
        servername: target.serverName,
        ca: tls.ca,
        cert: tls.cert,
        key: tls.key,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
        timeout: timeoutMs,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const status = res.statusCode ?? 0;
          if (status < 200 || status >= 300) {
            const message = parseJson<{ message?: string }>(text)?.message ?? text;
            reject(new Error(`etcd ${target.serverName} ${path}: ${status} ${message}`));
            return;
          }
          const parsed = parseJson<T>(text);
          if (parsed === undefined) reject(new Error(`etcd ${target.serverName} ${path}: not JSON`));
          else resolve(parsed);
        });
      },
    );
    req.on('timeout', () =>
      req.destroy(new Error(`etcd ${target.serverName} ${path}: no answer in ${timeoutMs} ms`)),
    );
    req.on('error', reject);
    req.end(payload);
  });
}

function parseJson<T>(text: string): T | undefined {
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}

/** The member API of the cluster `target` belongs to. */
export function memberApi(target: EtcdTarget, tls: EtcdClientTls) {
  const call = <T>(path: string, body: object) => etcdCall<T>(target, tls, path, body);
  return {
    /** Linearizable: a list the leader agrees with, not a lagging follower's. */
    list: async () =>
      (await call<{ members?: EtcdMember[] }>('/v3/cluster/member/list', { linearizable: true })).members ??
      [],
    addLearner: async (peerURL: string) =>
      call<{ member?: EtcdMember; members?: EtcdMember[] }>('/v3/cluster/member/add', {
        peerURLs: [peerURL],
        isLearner: true,
      }),
    promote: (id: string) => call<object>('/v3/cluster/member/promote', { ID: id }),
    remove: (id: string) => call<object>('/v3/cluster/member/remove', { ID: id }),
    /** This member's own view: leader, DB size, errors. */
    status: () => call<EtcdMemberStatus>('/v3/maintenance/status', {}),
    /**
     * Rewrites this member's DB file without its free space. The member answers nothing else meanwhile;
     * it takes seconds to minutes by the file's size, hence its own timeout.
     */
    defragment: () => etcdCall<object>(target, tls, '/v3/maintenance/defragment', {}, DEFRAGMENT_TIMEOUT_MS),
    alarms: async () =>
      (await call<{ alarms?: EtcdAlarm[] }>('/v3/maintenance/alarm', { action: 'GET' })).alarms ?? [],
  };
}

export type MemberApi = ReturnType<typeof memberApi>;
