// A client of a booted Cluster's apiservers that dials their Ready pods itself, as the real-boot upgrade
// test and the cluster-upgrade benchmark run it, and what the booted Cluster's processes were started from.
import { readdirSync, readFileSync } from 'node:fs';
import type { V1Pod } from '@kubernetes/client-node';
import { KubeConfig } from '@kubernetes/client-node';
import { mtlsJsonCall } from './mtls-json-call.ts';
import type { RealBoot } from './real-boot.ts';

/** The admin credential of a biz-cluster, for a client that dials apiserver pods itself. */
export interface AdminCredentials {
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
  serverName: string;
  port: number;
}

/** Read from the admin kubeconfig Secret the Cluster's status names. */
export async function adminCredentials(
  boot: RealBoot,
  namespace: string,
  clusterName: string,
): Promise<AdminCredentials> {
  const ref = (await boot.getCluster(clusterName)).status?.kubeconfigSecretRef;
  const secret = await boot.core.readNamespacedSecret({ name: ref?.name ?? '', namespace });
  const config = new KubeConfig();
  config.loadFromString(Buffer.from(secret.data?.[ref?.key ?? ''] ?? '', 'base64').toString());
  const cluster = config.getCurrentCluster();
  const user = config.getCurrentUser();
  const server = new URL(cluster?.server ?? '');
  return {
    ca: Buffer.from(cluster?.caData ?? '', 'base64'),
    cert: Buffer.from(user?.certData ?? '', 'base64'),
    key: Buffer.from(user?.keyData ?? '', 'base64'),
    serverName: server.hostname,
    port: Number(server.port || 443),
  };
}

/** One JSON call to the apiserver at pod address `ip`. */
export function callApiServer(
  credentials: AdminCredentials,
  ip: string,
  method: 'GET' | 'POST',
  path: string,
  body?: object,
): Promise<Record<string, unknown>> {
  const { ca, cert, key, serverName, port } = credentials;
  return mtlsJsonCall({
    host: ip,
    port,
    servername: serverName,
    tls: { ca, cert, key },
    method,
    path,
    ...(body ? { body } : {}),
    timeoutMs: 5_000,
  });
}

export const isReadyPod = (pod: V1Pod): boolean =>
  !pod.metadata?.deletionTimestamp &&
  (pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false);

/** One round of the client: when it began (performance.now()), how long it took, and how it ended. */
export interface ClientRound {
  startedAt: number;
  milliseconds: number;
  /** Its first attempt failed and it was tried once more on another Ready pod. */
  retried: boolean;
  /** It failed after the retry too. */
  failed: boolean;
}

export interface TalkingClient {
  /** Every gitVersion the apiservers answered /version with. */
  readonly versions: Set<string>;
  /** Why each failed round failed. */
  readonly failures: string[];
  /** Every round so far, in order. */
  readonly rounds: readonly ClientRound[];
  /** Stops after the round under way; how many ConfigMaps it created and how many rounds it retried. */
  stop(): Promise<{ created: number; retried: number }>;
}

/**
 * Reads and writes through the biz apiservers until stopped: each round asks a Ready apiserver pod for its
 * version and creates a ConfigMap `<name>-<n>`, and a round that fails is tried once more on another Ready
 * pod (as a client behind their Service would be sent to another endpoint).
 */
export function keepTalking(
  boot: RealBoot,
  credentials: AdminCredentials,
  name: string,
  pauseMs = 100,
): TalkingClient {
  let stopped = false;
  const versions = new Set<string>();
  const failures: string[] = [];
  const rounds: ClientRound[] = [];
  let created = 0;
  let retried = 0;
  const attempt = async (n: number, avoid?: string): Promise<void> => {
    const ready = (await boot.podsOf('kube-apiserver'))
      .filter(isReadyPod)
      .map((p) => p.status?.podIP ?? '')
      .filter((ip) => ip !== '');
    // Another pod after a failure, when there is another.
    const others = ready.filter((ip) => ip !== avoid);
    const ips = others.length > 0 ? others : ready;
    const ip = ips[n % Math.max(1, ips.length)];
    if (ip === undefined) throw new Error(`round ${n}: no Ready apiserver pod`);
    try {
      const version = await callApiServer(credentials, ip, 'GET', '/version');
      versions.add(String(version['gitVersion']));
      await callApiServer(credentials, ip, 'POST', '/api/v1/namespaces/default/configmaps', {
        metadata: { name: `${name}-${n}` },
        data: { n: String(n) },
      });
      created++;
    } catch (error) {
      if (avoid !== undefined) throw error;
      retried++;
      rounds[n] = { ...(rounds[n] as ClientRound), retried: true };
      await attempt(n, ip);
    }
  };
  const done = (async () => {
    for (let n = 0; !stopped; n++) {
      const startedAt = performance.now();
      rounds[n] = { startedAt, milliseconds: 0, retried: false, failed: false };
      let failed = false;
      await attempt(n).catch((error: unknown) => {
        failed = true;
        failures.push(String(error));
      });
      rounds[n] = { ...(rounds[n] as ClientRound), milliseconds: performance.now() - startedAt, failed };
      await new Promise((r) => setTimeout(r, pauseMs));
    }
  })();
  return {
    versions,
    failures,
    rounds,
    stop: async () => {
      stopped = true;
      await done;
      return { created, retried };
    },
  };
}

/** The binary each running container of `boot` was started from, for one component: read from /proc. */
export function runningBinaries(boot: RealBoot, component: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    } catch {
      continue; // gone meanwhile
    }
    const binary = argv.find((a) => a.endsWith(`/${component}`));
    // This boot's containers only: their flags name paths in its work directory.
    if (binary && argv.some((a) => a.includes(boot.workDir))) found.push(binary);
  }
  return found;
}

/** The version a binary was built at: the name of the directory it sits in. */
export const versionOf = (binary: string): string | undefined => binary.split('/').at(-2);
