/** cluster backup <name> | --all [-A]; cluster restore -f <file> */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { Annotations, ClusterConditions, ClusterResource, findCondition } from '@kok/api';
import { isNotFound, NotFoundError, PatchType } from '@kok/reconcile';
import type { KubernetesObject, V1Secret } from '@kubernetes/client-node';
import { explainApiError } from '../api-error-messages.ts';
import type { Target } from '../api-error-messages.ts';
import { CommandError } from '../cli-errors.ts';
import type { CommandFlags } from '../command-line.ts';
import {
  clusterBackup,
  clusterSecretSelector,
  differingSecretsNote,
  etcdBackupNote,
  etcdSnapshotRequestValue,
  externalEtcdSecretName,
  judgeEtcdSnapshot,
  objectKey,
  parseBackup,
  planEtcdRestore,
  planRestore,
  renderBackup,
  restoredEtcdNote,
} from '../cluster-backup.ts';
import type { ClusterBackup, EtcdSnapshot, EtcdSnapshotRequest, RestoreStep } from '../cluster-backup.ts';
import type { Connection } from '../kube-connection.ts';
import { clusterType, secretType } from '../resources.ts';
import type { ClusterObject } from '../resources.ts';
import type { CommandIo } from './io.ts';
import { clusterTarget } from './targets.ts';

const secretTarget = (name: string | undefined, namespace: string | undefined): Target => ({
  kind: 'Secret',
  apiVersion: 'v1',
  plural: 'secrets',
  ...(name === undefined ? {} : { name }),
  ...(namespace === undefined ? {} : { namespace }),
});

async function clustersToBackUp(
  connection: Connection,
  name: string,
  flags: CommandFlags,
): Promise<ClusterObject[]> {
  const namespace = flags.allNamespaces ? undefined : connection.namespace;
  try {
    if (name !== '') return [await connection.client.get(clusterType, { namespace, name })];
    const { items } = await connection.client.list(clusterType, namespace === undefined ? {} : { namespace });
    if (items.length === 0)
      throw new CommandError(
        `no Clusters ${namespace === undefined ? 'in any namespace' : `in namespace "${namespace}"`}: nothing to back up`,
      );
    return items.sort((a, b) => objectKey(a).localeCompare(objectKey(b)));
  } catch (error) {
    throw explainApiError(error, clusterTarget(name || undefined, namespace), connection.server);
  }
}

async function backupOf(connection: Connection, cluster: ClusterObject): Promise<ClusterBackup> {
  const name = cluster.metadata?.name ?? '';
  const namespace = cluster.metadata?.namespace ?? '';
  let labelled: V1Secret[];
  let external: V1Secret | undefined;
  try {
    ({ items: labelled } = await connection.client.list(secretType, {
      namespace,
      labelSelector: clusterSecretSelector(name),
    }));
  } catch (error) {
    throw explainApiError(error, secretTarget(undefined, namespace), connection.server);
  }
  const externalName = externalEtcdSecretName(cluster);
  if (externalName !== undefined) {
    try {
      external = await connection.client.get(secretType, { namespace, name: externalName });
    } catch (error) {
      if (!isNotFound(error))
        throw explainApiError(error, secretTarget(externalName, namespace), connection.server);
    }
  }
  return clusterBackup(cluster, labelled, external);
}

/** How often a backup looks whether its snapshots are taken. */
const SNAPSHOT_POLL_MS = 1000;

/** Sets the snapshot-request annotation (a merge patch of it alone) and notes EtcdBackup as it stood. */
async function requestEtcdSnapshot(
  connection: Connection,
  cluster: ClusterObject,
  value: string,
  at: Date,
): Promise<EtcdSnapshotRequest> {
  const { name = '', namespace = '' } = cluster.metadata ?? {};
  let patched: ClusterObject;
  try {
    patched = await connection.client.patch(clusterType, { namespace, name }, PatchType.merge, {
      metadata: { annotations: { [Annotations.etcdSnapshotRequest]: value } },
    });
  } catch (error) {
    throw explainApiError(error, clusterTarget(name, namespace), connection.server);
  }
  const before = findCondition(patched.status?.conditions, ClusterConditions.EtcdBackup);
  return { cluster: objectKey(cluster), value, at, ...(before ? { before } : {}) };
}

/**
 * Asks the operator for a snapshot of every Cluster's etcd at once, then waits until each is taken;
 * throws at the first that is not. Snapshots by Cluster key.
 */
async function takeEtcdSnapshots(
  connection: Connection,
  clusters: readonly ClusterObject[],
  io: CommandIo,
): Promise<Map<string, EtcdSnapshot>> {
  const value = etcdSnapshotRequestValue(io.now());
  const pending: { name: string; namespace: string; request: EtcdSnapshotRequest }[] = [];
  for (const cluster of clusters) {
    const { name = '', namespace = '' } = cluster.metadata ?? {};
    pending.push({
      name,
      namespace,
      request: await requestEtcdSnapshot(connection, cluster, value, io.now()),
    });
  }
  if (pending.length > 0)
    io.stderr(
      `waiting for the operator's etcd snapshot of ${pending.map((p) => p.request.cluster).join(', ')} (request ${value})...\n`,
    );
  const taken = new Map<string, EtcdSnapshot>();
  while (pending.length > 0) {
    try {
      await sleep(SNAPSHOT_POLL_MS, undefined, { signal: io.signal });
    } catch {
      throw new CommandError(
        `interrupted while waiting for the etcd snapshot of ${pending.map((p) => p.request.cluster).join(', ')}: ` +
          'nothing is written (the operator still answers the request on the Cluster)',
      );
    }
    for (const entry of [...pending]) {
      const { name, namespace, request } = entry;
      let cluster: ClusterObject;
      try {
        cluster = await connection.client.get(clusterType, { namespace, name });
      } catch (error) {
        throw explainApiError(error, clusterTarget(name, namespace), connection.server);
      }
      const verdict = judgeEtcdSnapshot(request, cluster.status, io.now());
      if (verdict.kind === 'failed') throw new CommandError(verdict.message);
      if (verdict.kind === 'done') {
        taken.set(request.cluster, verdict.snapshot);
        pending.splice(pending.indexOf(entry), 1);
      }
    }
  }
  return taken;
}

/** Writes the backup of one Cluster, or of all of them, to stdout; what it holds and misses to stderr. */
export async function clusterBackupCommand(
  connection: Connection,
  name: string,
  flags: CommandFlags,
  io: CommandIo,
): Promise<void> {
  const clusters = await clustersToBackUp(connection, name, flags);
  const backups: ClusterBackup[] = [];
  // Every Cluster is checked before anything is printed: a backup missing a key is no backup.
  for (const cluster of clusters) backups.push(await backupOf(connection, cluster));
  if (flags.etcdSnapshot) {
    // Likewise a backup missing a snapshot asked for: all are taken before anything is printed.
    const operatorRun = clusters.filter((cluster) => !cluster.spec.etcd?.external);
    for (const cluster of clusters.filter((c) => c.spec.etcd?.external))
      io.stderr(
        `warning: Cluster ${objectKey(cluster)} uses an external etcd (spec.etcd.external): its snapshot is not ` +
          "the operator's to take; back it up where that etcd runs.\n",
      );
    const snapshots = await takeEtcdSnapshots(connection, operatorRun, io);
    for (const backup of backups) {
      const snapshot = snapshots.get(objectKey(backup.cluster));
      if (snapshot) backup.etcdSnapshot = snapshot;
    }
  }
  io.stdout(renderBackup(backups, io.now(), connection.server));
  for (const warning of backups.flatMap((b) => b.warnings)) io.stderr(`warning: ${warning}\n`);
  const secrets = backups.reduce((sum, b) => sum + b.secrets.length, 0);
  io.stderr(
    `backed up ${backups.length} Cluster(s) and ${secrets} Secret(s).\n` +
      'warning: the backup holds PRIVATE KEYS (the CAs, the service-account signing key and admin credentials): ' +
      'whoever reads it is cluster-admin of these clusters. Keep it encrypted and access-controlled.\n' +
      etcdBackupNote(backups),
  );
}

function readBackupFile(file: string): string {
  try {
    // `-f -` reads stdin, as kubectl does.
    return readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (error) {
    throw new CommandError(`cannot read ${file === '-' ? 'stdin' : file}: ${(error as Error).message}`);
  }
}

async function getIfExists<T extends KubernetesObject>(
  get: () => Promise<T>,
  target: Target,
  server: string,
): Promise<T | undefined> {
  try {
    return await get();
  } catch (error) {
    // Only the object is missing (in a missing namespace too: the create says so), not its API.
    if (error instanceof NotFoundError && error.status.details?.name === target.name) return undefined;
    throw explainApiError(error, target, server);
  }
}

/** `secret/x`, `cluster.clusters.kok.dev/y`: how kubectl names an object in its one-line answers. */
function qualifiedName(step: RestoreStep): string {
  const name = step.object.metadata?.name ?? '';
  return step.kind === 'Secret'
    ? `secret/${name}`
    : `${ClusterResource.singular}.${ClusterResource.group}/${name}`;
}

const ACTION_WORDS: Record<RestoreStep['action'], string> = {
  create: 'created',
  unchanged: 'unchanged (exists with the same data)',
  differs: 'exists with other data, left as it is',
  exists: 'exists, left as it is',
};

/** Creates what the backup holds and the meta-cluster lacks: Secrets first, then Clusters. */
export async function clusterRestoreCommand(
  connection: Connection,
  flags: CommandFlags,
  io: CommandIo,
): Promise<void> {
  const file = flags.filename ?? '';
  const contents = parseBackup(readBackupFile(file), file === '-' ? 'stdin' : file);
  const { client, server } = connection;
  const liveSecrets = new Map<string, V1Secret>();
  const liveClusters = new Map<string, ClusterObject>();
  for (const secret of contents.secrets) {
    const { name = '', namespace } = secret.metadata ?? {};
    const live = await getIfExists(
      () => client.get(secretType, { namespace, name }),
      secretTarget(name, namespace),
      server,
    );
    if (live) liveSecrets.set(objectKey(secret), live);
  }
  for (const cluster of contents.clusters) {
    const { name = '', namespace } = cluster.metadata ?? {};
    const live = await getIfExists(
      () => client.get(clusterType, { namespace, name }),
      clusterTarget(name, namespace),
      server,
    );
    if (live) liveClusters.set(objectKey(cluster), live);
  }
  let steps = planRestore(contents, liveSecrets, liveClusters);
  const claim = flags.etcdSnapshotClaim;
  if (claim !== undefined) {
    // Planned (and refused, if it must be) before anything is written.
    const etcd = planEtcdRestore(steps, contents.etcdSnapshots, claim);
    steps = etcd.steps;
    for (const warning of etcd.warnings) io.stderr(`warning: ${warning}\n`);
    for (const start of etcd.starts) io.stderr(`${start}\n`);
  }
  for (const step of steps) {
    if (step.action === 'create') await create(connection, step);
    io.stdout(`${qualifiedName(step)} ${ACTION_WORDS[step.action]}\n`);
  }
  const namespaces = [...new Set(contents.clusters.map((c) => c.metadata?.namespace ?? ''))];
  const differing = differingSecretsNote(steps);
  if (differing) io.stderr(`warning: ${differing}\n`);
  io.stderr(
    'The kube-on-kube operator adopts the restored Secrets (they carry their Cluster’s labels and no owner), ' +
      'keeps their CAs and keys, and brings each control plane up. Follow it with: ' +
      namespaces.map((ns) => `kubectl get clusters -n ${ns} -w`).join('; ') +
      `\nnote: ${restoredEtcdNote(steps)}\n`,
  );
}

async function create(connection: Connection, step: RestoreStep): Promise<void> {
  const { name = '', namespace = '' } = step.object.metadata ?? {};
  const target = step.kind === 'Secret' ? secretTarget(name, namespace) : clusterTarget(name, namespace);
  try {
    if (step.kind === 'Secret') await connection.client.create(secretType, step.object as V1Secret);
    else await connection.client.create(clusterType, step.object as ClusterObject);
  } catch (error) {
    if (error instanceof NotFoundError && error.status.details?.kind === 'namespaces')
      throw new CommandError(
        `namespace "${namespace}" does not exist, so ${step.kind} "${name}" cannot be restored into it: ` +
          `create it with: kubectl create namespace ${namespace}, then restore again ` +
          '(what was restored so far is left as it is and shows as unchanged)',
      );
    throw explainApiError(error, target, connection.server);
  }
}
