/**
 * What `kubectl kok cluster backup` writes and `cluster restore` puts back: a
 * Cluster's spec and the Secrets its control plane's identities live in (CAs,
 * service-account key, certificates, kubeconfigs), with only the metadata that
 * can be created again. No ownerReferences: the Cluster they named is gone
 * once a restore is needed, and the garbage collector deletes what names a
 * vanished owner. The kube-on-kube operator adopts a Secret that nothing
 * controls and that carries its Cluster's labels, and reuses its CA and keys.
 * Pure: objects in, objects, documents and plans out.
 */
import { createHash, createPublicKey, X509Certificate } from 'node:crypto';
import {
  Annotations,
  apiVersionOf,
  ClusterConditions,
  ClusterResource,
  findCondition,
  Labels,
} from '@kok/api';
import type { ClusterStatus, Condition } from '@kok/api';
import { controllerOf, nameOf } from '@kok/reconcile';
import type { V1Secret } from '@kubernetes/client-node';
import { parseAllDocuments, stringify } from 'yaml';
import { CommandError } from './cli-errors.ts';
import type { ClusterObject } from './resources.ts';

/** The managed-by value the kube-on-kube operator puts on every object it makes for a Cluster. */
export const KUBE_ON_KUBE_OPERATOR = 'kube-on-kube-operator';

/**
 * Annotations the operator writes on a Cluster about the biz-cluster it found, not about what is wanted:
 * restored, they would say the node API is installed in an etcd that may start empty.
 */
const OBSERVED_ANNOTATIONS: readonly string[] = ['clusters.kok.dev/node-api-hash'];

/**
 * Annotations a backup leaves out: the observed ones, and an etcd snapshot request, which a restored
 * Cluster (no status.etcd.lastSnapshot) would take as new and answer with a snapshot nobody asked for.
 */
const UNRESTORED_ANNOTATIONS: readonly string[] = [...OBSERVED_ANNOTATIONS, Annotations.etcdSnapshotRequest];

/**
 * Secrets the operator makes for Cluster `name` that hold no identity but the state of its etcd
 * membership (how a member without data joins): written again from etcd on every pass, and restored
 * stale they would tell a fresh etcd to join members that are gone. Left out of a backup.
 */
export function membershipSecretNames(name: string): string[] {
  return [`${name}-etcd-join`];
}

/** Label selector of the Secrets the operator made for Cluster `name`. */
export function clusterSecretSelector(name: string): string {
  return `${Labels.cluster}=${name},${Labels.managedBy}=${KUBE_ON_KUBE_OPERATOR}`;
}

/** The Secret of an external etcd's client certificate that the Cluster names, if any (the user's, not labelled). */
export function externalEtcdSecretName(cluster: ClusterObject): string | undefined {
  return cluster.spec.etcd?.external?.tlsSecretRef.name;
}

interface CreatableMetadata {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** name, namespace, labels and annotations: what a person or a tool chose, nothing the apiserver assigned. */
function creatableMetadata(
  metadata: Partial<CreatableMetadata> | undefined,
  dropAnnotations: readonly string[] = [],
): CreatableMetadata {
  const annotations = Object.fromEntries(
    Object.entries(metadata?.annotations ?? {}).filter(([key]) => !dropAnnotations.includes(key)),
  );
  return {
    name: metadata?.name ?? '',
    ...(metadata?.namespace ? { namespace: metadata.namespace } : {}),
    ...(metadata?.labels && Object.keys(metadata.labels).length > 0
      ? { labels: { ...metadata.labels } }
      : {}),
    ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
  };
}

/** The Cluster as it can be created again: its spec, no status, no uid, finalizers or ownerReferences. */
export function restorableCluster(cluster: ClusterObject): ClusterObject {
  return {
    apiVersion: apiVersionOf(ClusterResource),
    kind: ClusterResource.kind,
    metadata: creatableMetadata(cluster.metadata, UNRESTORED_ANNOTATIONS),
    spec: cluster.spec,
  };
}

/** The Secret as it can be created again, controlled by nothing until the operator adopts it. */
export function restorableSecret(secret: V1Secret): V1Secret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: creatableMetadata(secret.metadata),
    ...(secret.type ? { type: secret.type } : {}),
    ...(secret.immutable ? { immutable: true } : {}),
    data: { ...secret.data },
  };
}

type Fingerprints = NonNullable<ClusterStatus['pki']>;

const sha256 = (der: Buffer) => createHash('sha256').update(der).digest('hex');
const decoded = (secret: V1Secret, key: string) => {
  const value = secret.data?.[key];
  return value === undefined ? undefined : Buffer.from(value, 'base64').toString('utf8');
};

/**
 * The fingerprints a Secret holds, as status.pki writes them: SHA-256 of the
 * DER of its certificate (`tls.crt`) and of its public key (`sa.pub`, as SubjectPublicKeyInfo).
 */
export function fingerprintsIn(secret: V1Secret): string[] {
  const found: string[] = [];
  try {
    const certificate = decoded(secret, 'tls.crt');
    if (certificate) found.push(sha256(new X509Certificate(certificate).raw));
  } catch {
    // Not a certificate: it matches no fingerprint, which is what the check below reports.
  }
  try {
    const publicKey = decoded(secret, 'sa.pub');
    if (publicKey) found.push(sha256(createPublicKey(publicKey).export({ type: 'spki', format: 'der' })));
  } catch {
    // Likewise.
  }
  return found;
}

/** status.etcd.lastSnapshot: a snapshot file on the operator's snapshot volume. */
export type EtcdSnapshot = NonNullable<NonNullable<ClusterStatus['etcd']>['lastSnapshot']>;

export interface ClusterBackup {
  cluster: ClusterObject;
  secrets: V1Secret[];
  /** What a person should know: Secrets left out and why, a missing external etcd Secret. */
  warnings: string[];
  /** The etcd snapshot taken for this backup (--etcd-snapshot), if one was. */
  etcdSnapshot?: EtcdSnapshot;
}

/**
 * The backup of one Cluster from what the apiserver holds: its labelled
 * Secrets that it (or nothing) controls but for its etcd membership Secret, and the external etcd Secret it
 * names. Refuses when a CA or key that status.pki records is not among them:
 * such a backup could not bring the cluster's identities back.
 */
export function clusterBackup(
  cluster: ClusterObject,
  labelled: readonly V1Secret[],
  externalEtcdSecret: V1Secret | undefined,
): ClusterBackup {
  const name = cluster.metadata?.name ?? '';
  const namespace = cluster.metadata?.namespace ?? '';
  const uid = cluster.metadata?.uid;
  const warnings: string[] = [];
  const secrets: V1Secret[] = [];
  const membership = membershipSecretNames(name);
  for (const secret of [...labelled].sort(byName)) {
    if (membership.includes(nameOf(secret))) continue;
    const controller = controllerOf(secret);
    if (controller && controller.uid !== uid) {
      warnings.push(
        `Secret "${secret.metadata?.name}" carries the labels of Cluster "${name}" but is controlled by ` +
          `${controller.kind} "${controller.name}" (uid ${controller.uid}), not by it: left out, the operator does not use it`,
      );
      continue;
    }
    secrets.push(restorableSecret(secret));
  }
  const externalName = externalEtcdSecretName(cluster);
  if (externalName !== undefined) {
    if (externalEtcdSecret) secrets.push(restorableSecret(externalEtcdSecret));
    else
      warnings.push(
        `Secret "${externalName}" (spec.etcd.external.tlsSecretRef) does not exist: left out; ` +
          `the Cluster cannot reach its etcd without it`,
      );
  }

  const held = new Set(secrets.flatMap(fingerprintsIn));
  const missing = Object.entries(cluster.status?.pki ?? {}).filter(
    ([, fingerprint]) => fingerprint !== undefined && !held.has(fingerprint),
  ) as [keyof Fingerprints, string][];
  if (missing.length > 0)
    throw new CommandError(
      `Cluster "${name}" in namespace "${namespace}": status.pki records ` +
        missing.map(([field, fingerprint]) => `${field} ${fingerprint}`).join(', ') +
        `, but no Secret labelled ${clusterSecretSelector(name)} holds ${missing.length === 1 ? 'it' : 'them'}, ` +
        'so a restore could not bring those keys back and nothing is written. ' +
        `Is the Cluster Degraded with PKIMissing? Check with: kubectl kok cluster get ${name} -n ${namespace}`,
    );
  if (secrets.length === 0)
    warnings.push(
      `Cluster "${name}" has no PKI Secrets yet (the operator makes them once its apiserver Service exists): ` +
        'only its spec is backed up',
    );
  return { cluster: restorableCluster(withoutEtcdRestore(cluster)), secrets, warnings };
}

/**
 * The Cluster without spec.etcd.restoreFrom: that records how the Cluster was born, not what its etcd holds
 * now, and a Cluster restored with it would start from that old snapshot.
 */
function withoutEtcdRestore(cluster: ClusterObject): ClusterObject {
  const etcd = cluster.spec.etcd;
  if (etcd?.restoreFrom === undefined) return cluster;
  const { restoreFrom: _born, ...rest } = etcd;
  const { etcd: _etcd, ...spec } = cluster.spec;
  return { ...cluster, spec: Object.keys(rest).length > 0 ? { ...spec, etcd: rest } : spec };
}

const byName = (a: { metadata?: { name?: string } }, b: { metadata?: { name?: string } }) =>
  nameOf(a).localeCompare(nameOf(b));

/** `namespace/name` of a backed-up Cluster, as the header and notes name it. */
const clusterKey = (backup: ClusterBackup) => objectKey(backup.cluster);

/** Where the snapshot of one Cluster lives and what identifies it: a line of the header and of the note. */
export function etcdSnapshotLine(backup: ClusterBackup & { etcdSnapshot: EtcdSnapshot }): string {
  const { file, revision, sha256: digest, time } = backup.etcdSnapshot;
  return (
    `etcd snapshot of ${clusterKey(backup)}: ${file} on the operator's snapshot volume ` +
    `(revision ${revision}, sha256 ${digest}, taken ${time})`
  );
}

/** What etcdSnapshotLine writes, read back: the Cluster's `namespace/name`, then the file. */
const ETCD_SNAPSHOT_LINE =
  /^etcd snapshot of ([^\s/]+\/[^\s/:]+): (\S+) on the operator's snapshot volume \(revision \d+, sha256 [0-9a-f]+, taken \S+\)$/;

/** The Cluster key and snapshot file a header line of a backup names, if it is an etcdSnapshotLine. */
export function parseEtcdSnapshotLine(line: string): { cluster: string; file: string } | undefined {
  const match = ETCD_SNAPSHOT_LINE.exec(line.replace(/^#\s*/, ''));
  return match ? { cluster: match[1] ?? '', file: match[2] ?? '' } : undefined;
}

const hasSnapshot = (backup: ClusterBackup): backup is ClusterBackup & { etcdSnapshot: EtcdSnapshot } =>
  backup.etcdSnapshot !== undefined;

/**
 * What a backup holds of etcd: one line per snapshot, and for the Clusters without one what to do.
 * With no snapshot at all, the one line on etcd volumes backups always had; beside snapshots, those
 * without are named (with --etcd-snapshot they are the ones on an external etcd).
 */
function etcdLines(backups: readonly ClusterBackup[]): { snapshots: string[]; without: string[] } {
  const snapshots = backups.filter(hasSnapshot).map(etcdSnapshotLine);
  const withoutSnapshot = backups.filter((b) => !hasSnapshot(b));
  if (withoutSnapshot.length === 0) return { snapshots, without: [] };
  if (snapshots.length === 0)
    return {
      snapshots,
      without: [
        "No etcd data: back up each Cluster's etcd volumes (claims data-<cluster>-etcd-N) on their own.",
      ],
    };
  const external = withoutSnapshot.filter((b) => b.cluster.spec.etcd?.external).map(clusterKey);
  const onVolumes = withoutSnapshot.filter((b) => !b.cluster.spec.etcd?.external).map(clusterKey);
  return {
    snapshots,
    without: [
      ...(onVolumes.length > 0
        ? [
            `No etcd data of ${onVolumes.join(', ')}: back up the etcd volumes (claims data-<cluster>-etcd-N) on their own.`,
          ]
        : []),
      ...(external.length > 0
        ? [
            `No etcd data of ${external.join(', ')}: an external etcd (spec.etcd.external), backed up where it runs.`,
          ]
        : []),
    ],
  };
}

/**
 * The backup file: a comment that says what it is, then one YAML document per
 * object, every Secret before any Cluster, so that even `kubectl apply -f`
 * creates the keys before the operator sees a Cluster that would need new ones.
 */
export function renderBackup(backups: readonly ClusterBackup[], takenAt: Date, server: string): string {
  const etcd = etcdLines(backups);
  const header = [
    `# kubectl kok cluster backup of ${backups.map(clusterKey).join(', ')} from ${server}, ${takenAt.toISOString()}`,
    '# PRIVATE KEYS: the CAs, the service-account signing key and admin credentials of these clusters.',
    '# Whoever reads this file is cluster-admin of them: keep it encrypted and access-controlled.',
    ...[...etcd.snapshots, ...etcd.without].map((line) => `# ${line}`),
    etcd.snapshots.length > 0
      ? `# Restore with: kubectl kok cluster restore -f <this file> --etcd-snapshot-claim <${SNAPSHOT_CLAIM_PLACEHOLDER}>` +
        ' (without it, etcd starts from the volumes it finds, or empty)'
      : '# Restore with: kubectl kok cluster restore -f <this file>',
  ];
  const objects = [...backups.flatMap((b) => b.secrets), ...backups.map((b) => b.cluster)];
  return `${header.join('\n')}\n${objects.map((o) => `---\n${stringify(o, { lineWidth: 0 })}`).join('')}`;
}

/** What --etcd-snapshot-claim names, said where a restore is explained. */
const SNAPSHOT_CLAIM_PLACEHOLDER =
  "a claim in the Cluster's namespace whose volume holds the operator's snapshot directory";

/** The note after a backup on what it holds of etcd (stderr): the snapshots taken, and what the rest need. */
export function etcdBackupNote(backups: readonly ClusterBackup[]): string {
  const etcd = etcdLines(backups);
  const lines = etcd.snapshots.map(
    (line) =>
      `note: ${line}; to start the restored Cluster's etcd from it: kubectl kok cluster restore -f <backup> ` +
      `--etcd-snapshot-claim <${SNAPSHOT_CLAIM_PLACEHOLDER}>.`,
  );
  if (etcd.snapshots.length === 0)
    lines.push(
      'note: it holds no etcd data; the etcd volumes of each Cluster (claims data-<cluster>-etcd-N, kept when its ' +
        'etcd StatefulSet goes) are backed up on their own.',
    );
  else lines.push(...etcd.without.map((line) => `note: ${line}`));
  return lines.map((line) => `${line}\n`).join('');
}

/** The value of the snapshot-request annotation for a backup made at `at`: new on every run. */
export function etcdSnapshotRequestValue(at: Date): string {
  return `backup-${at.toISOString().replace(/[-:.]/g, '')}`;
}

/** How long a backup waits for a requested snapshot: past the operator's 5-minute pause after a failure. */
export const ETCD_SNAPSHOT_TIMEOUT_MS = 6 * 60_000;
/**
 * How long an EtcdBackup that was already False with NoSnapshotDirectory when the snapshot was requested
 * may stay so before the backup gives up: the operator answers the annotation within a pass, and one
 * that still has no directory leaves the condition as it was.
 */
export const NO_SNAPSHOT_DIRECTORY_GRACE_MS = 30_000;

export interface EtcdSnapshotRequest {
  /** `namespace/name` of the Cluster. */
  cluster: string;
  /** The annotation's value. */
  value: string;
  /** When it was set (this machine's clock). */
  at: Date;
  /** EtcdBackup as it stood when the annotation was set, if the Cluster had it. */
  before?: Condition;
}

export type EtcdSnapshotVerdict =
  { kind: 'done'; snapshot: EtcdSnapshot } | { kind: 'wait' } | { kind: 'failed'; message: string };

const SNAPSHOT_FAILURE_HINTS: Readonly<Record<string, string>> = {
  NoSnapshotDirectory:
    'the operator runs without --etcd-snapshot-dir, so it has nowhere to write snapshots: ' +
    'give it one (a volume its pod mounts), or back up without --etcd-snapshot',
  NoHealthyMember: 'no voting etcd member answers',
  SnapshotFailed: 'the operator tries again after 5 minutes',
};

/**
 * Whether the snapshot asked for with `request` is taken, from the Cluster's status: done once
 * status.etcd.lastSnapshot answers the request; failed once EtcdBackup is False for this request (it
 * turned False after the request was made, or changed reason or message since), once an EtcdBackup
 * already False for want of a snapshot directory stays so past a grace, or after the timeout. Pure.
 */
export function judgeEtcdSnapshot(
  request: EtcdSnapshotRequest,
  status: ClusterStatus | undefined,
  now: Date,
): EtcdSnapshotVerdict {
  const snapshot = status?.etcd?.lastSnapshot;
  if (snapshot && snapshot.request === request.value) return { kind: 'done', snapshot };
  const condition = findCondition(status?.conditions, ClusterConditions.EtcdBackup);
  const waited = now.getTime() - request.at.getTime();
  const failed = (why: string): EtcdSnapshotVerdict => ({
    kind: 'failed',
    message: `the etcd snapshot of ${request.cluster} (request ${request.value}) was not taken: ${why}; nothing is written`,
  });
  if (condition?.status === 'False') {
    const { before } = request;
    // lastTransitionTime has whole seconds; the operator's clock is taken to agree with this one.
    const requestSecond = Math.floor(request.at.getTime() / 1000) * 1000;
    const turnedFalseSince = Date.parse(condition.lastTransitionTime) >= requestSecond;
    const changedSince =
      before?.status !== 'False' ||
      before.reason !== condition.reason ||
      before.message !== condition.message;
    const stillNoDirectory =
      condition.reason === 'NoSnapshotDirectory' && waited >= NO_SNAPSHOT_DIRECTORY_GRACE_MS;
    if (turnedFalseSince || changedSince || stillNoDirectory) {
      const hint = SNAPSHOT_FAILURE_HINTS[condition.reason];
      return failed(
        `EtcdBackup is False (${condition.reason}): ${condition.message}` + (hint ? ` (${hint})` : ''),
      );
    }
  }
  if (waited >= ETCD_SNAPSHOT_TIMEOUT_MS)
    return failed(
      `no snapshot answered it within ${ETCD_SNAPSHOT_TIMEOUT_MS / 60_000} minutes` +
        (condition ? `; EtcdBackup is ${condition.status} (${condition.reason}): ${condition.message}` : '') +
        '. Is the kube-on-kube operator running?',
    );
  return { kind: 'wait' };
}

export interface BackupContents {
  clusters: ClusterObject[];
  secrets: V1Secret[];
  /** The snapshot file the header names for a Cluster (`namespace/name`), relative to the operator's snapshot directory. */
  etcdSnapshots: Map<string, string>;
}

const CLUSTER_API_VERSION = apiVersionOf(ClusterResource);

/**
 * The objects of a backup file (or of `kubectl get -o yaml` output: a List
 * works too), made creatable again whatever metadata they carry.
 */
export function parseBackup(text: string, source: string): BackupContents {
  const contents: BackupContents = { clusters: [], secrets: [], etcdSnapshots: new Map() };
  for (const line of text.split('\n')) {
    if (!line.startsWith('#')) continue;
    const named = parseEtcdSnapshotLine(line);
    if (!named) continue;
    const earlier = contents.etcdSnapshots.get(named.cluster);
    if (earlier !== undefined && earlier !== named.file)
      throw new CommandError(
        `${source} names two etcd snapshots of ${named.cluster} (${earlier} and ${named.file}): ` +
          'keep the line of the one to restore and delete the other',
      );
    contents.etcdSnapshots.set(named.cluster, named.file);
  }
  const documents = parseAllDocuments(text);
  const objects: unknown[] = [];
  for (const [index, document] of documents.entries()) {
    if (document.errors.length > 0)
      throw new CommandError(
        `${source}: document ${index + 1} is not valid YAML: ${document.errors[0]?.message}`,
      );
    const value: unknown = document.toJS();
    if (value === null || value === undefined) continue;
    const list = value as { kind?: unknown; items?: unknown };
    if (list.kind === 'List' && Array.isArray(list.items)) objects.push(...(list.items as unknown[]));
    else objects.push(value);
  }
  for (const [index, value] of objects.entries()) {
    const object = value as { apiVersion?: unknown; kind?: unknown; metadata?: Partial<CreatableMetadata> };
    const where = `${source}: object ${index + 1} (${String(object.kind)} "${object.metadata?.name ?? ''}")`;
    if (!object.metadata?.name || !object.metadata.namespace)
      throw new CommandError(`${where} has no metadata.name or metadata.namespace`);
    if (object.kind === 'Secret' && object.apiVersion === 'v1')
      contents.secrets.push(restorableSecret(value as V1Secret));
    else if (object.kind === ClusterResource.kind && object.apiVersion === CLUSTER_API_VERSION)
      contents.clusters.push(restorableCluster(value as ClusterObject));
    else
      throw new CommandError(
        `${where}: a backup holds only Secrets (v1) and Clusters (${CLUSTER_API_VERSION}); ` +
          'make one with: kubectl kok cluster backup <name> > backup.yaml',
      );
  }
  if (contents.clusters.length === 0 && contents.secrets.length === 0)
    throw new CommandError(`${source} holds no objects: is it the output of kubectl kok cluster backup?`);
  return contents;
}

export type RestoreAction = 'create' | 'unchanged' | 'differs' | 'exists';

export interface RestoreStep {
  kind: 'Secret' | 'Cluster';
  object: V1Secret | ClusterObject;
  action: RestoreAction;
}

/** `namespace/name`, how a restore looks objects up. */
export const objectKey = (object: { metadata?: { name?: string; namespace?: string } }): string =>
  `${object.metadata?.namespace}/${object.metadata?.name}`;

const sameSecret = (a: V1Secret, b: V1Secret) =>
  (a.type ?? 'Opaque') === (b.type ?? 'Opaque') &&
  JSON.stringify(Object.entries(a.data ?? {}).sort()) === JSON.stringify(Object.entries(b.data ?? {}).sort());

/**
 * What a restore does, given what exists now: create what is missing, Secrets
 * first, and never overwrite. A Secret that exists with other data than the
 * backup's (a certificate renewed, a CA rotated since) may be what the cluster
 * uses now: it is left as it is and reported.
 */
export function planRestore(
  contents: BackupContents,
  liveSecrets: ReadonlyMap<string, V1Secret>,
  liveClusters: ReadonlyMap<string, ClusterObject>,
): RestoreStep[] {
  const secretAction = (secret: V1Secret): RestoreAction => {
    const live = liveSecrets.get(objectKey(secret));
    if (!live) return 'create';
    return sameSecret(live, secret) ? 'unchanged' : 'differs';
  };
  return [
    ...contents.secrets.map((object): RestoreStep => ({
      kind: 'Secret',
      object,
      action: secretAction(object),
    })),
    ...contents.clusters.map((object): RestoreStep => ({
      kind: 'Cluster',
      object,
      action: liveClusters.has(objectKey(object)) ? 'exists' : 'create',
    })),
  ];
}

export interface EtcdRestorePlan {
  /** The restore's steps, every Cluster it creates with spec.etcd.restoreFrom on the claim. */
  steps: RestoreStep[];
  /** Per Cluster it creates, the snapshot its etcd starts from. */
  starts: string[];
  /** Clusters whose etcd is not restored (an external etcd, a Cluster that exists), a restoreFrom replaced. */
  warnings: string[];
}

/**
 * `--etcd-snapshot-claim`: every Cluster the restore creates starts its etcd from the snapshot the backup names
 * for it, at that path on `claimName` in its namespace. Refuses, before anything is written, when such a
 * Cluster runs its own etcd and the backup names no snapshot of it (nor does the file give it a restoreFrom):
 * it would come up empty while the others come back. Pure.
 */
export function planEtcdRestore(
  steps: readonly RestoreStep[],
  snapshots: ReadonlyMap<string, string>,
  claimName: string,
): EtcdRestorePlan {
  const starts: string[] = [];
  const warnings: string[] = [];
  const withoutSnapshot: ClusterObject[] = [];
  const planned = steps.map((step): RestoreStep => {
    if (step.kind !== 'Cluster') return step;
    const cluster = step.object as ClusterObject;
    const key = objectKey(cluster);
    const file = snapshots.get(key);
    const given = cluster.spec.etcd?.restoreFrom;
    if (cluster.spec.etcd?.external) {
      warnings.push(
        `Cluster ${key} uses an external etcd (spec.etcd.external): its etcd is not the operator's to restore, ` +
          'the Cluster is restored as the backup has it',
      );
      return step;
    }
    if (step.action !== 'create') {
      warnings.push(
        `Cluster ${key} exists: left as it is, and its etcd is not restored` +
          (file === undefined ? '' : ` from ${file}`) +
          ' (spec.etcd.restoreFrom applies only to a new Cluster)',
      );
      return step;
    }
    if (file === undefined) {
      if (given)
        starts.push(
          `Cluster ${key} starts its etcd from ${given.path} on claim ${given.claimName} (spec.etcd.restoreFrom of the file)`,
        );
      else withoutSnapshot.push(cluster);
      return step;
    }
    if (given && (given.claimName !== claimName || given.path !== file))
      warnings.push(
        `Cluster ${key}: spec.etcd.restoreFrom of the file (${given.path} on claim ${given.claimName}) is replaced ` +
          'by the snapshot the backup names',
      );
    starts.push(
      `Cluster ${key} starts its etcd from ${file} on claim ${claimName} in namespace ${cluster.metadata?.namespace}`,
    );
    const restoreFrom = { claimName, path: file };
    return {
      ...step,
      object: { ...cluster, spec: { ...cluster.spec, etcd: { ...cluster.spec.etcd, restoreFrom } } },
    };
  });
  if (withoutSnapshot.length > 0) {
    const keys = withoutSnapshot.map(objectKey);
    const one = keys.length === 1;
    throw new CommandError(
      `--etcd-snapshot-claim: the backup names no etcd snapshot of ${keys.join(', ')}, which ` +
        `${one ? 'runs its' : 'run their'} own etcd, so ${one ? 'it' : 'they'} would start empty; nothing is written. ` +
        `Back ${one ? 'it' : 'them'} up with --etcd-snapshot (` +
        withoutSnapshot
          .map(
            (c) =>
              `kubectl kok cluster backup ${c.metadata?.name} -n ${c.metadata?.namespace} --etcd-snapshot`,
          )
          .join('; ') +
        '), or restore without --etcd-snapshot-claim',
    );
  }
  return { steps: planned, starts, warnings };
}

/** What a restore did about etcd data: the Clusters it created with spec.etcd.restoreFrom, or nothing. */
export function restoredEtcdNote(steps: readonly RestoreStep[]): string {
  const restoring = steps
    .filter((step) => step.kind === 'Cluster' && step.action === 'create')
    .map((step) => step.object as ClusterObject)
    .filter((cluster) => cluster.spec.etcd?.restoreFrom !== undefined)
    .map(objectKey);
  if (restoring.length === 0)
    return 'no etcd data was restored; an etcd whose volumes are gone starts empty.';
  return (
    `the operator restores the etcd of ${restoring.join(', ')} from spec.etcd.restoreFrom before first starting ` +
    'it (Progressing with reason RestoringEtcd; Degraded with reason EtcdRestoreFailed if a restore pod fails); ' +
    'no other etcd data was restored.'
  );
}

/** What to tell a person about Secrets a restore left as they were although the backup's differ. */
export function differingSecretsNote(steps: readonly RestoreStep[]): string | undefined {
  const differing = steps.filter((step) => step.action === 'differs').map((step) => step.object);
  if (differing.length === 0) return undefined;
  return (
    `${differing.length} Secret(s) exist with other data than the backup's and were left as they are: the cluster ` +
    'may be using them (a certificate renewed or a CA rotated since the backup). To put the backup’s back, delete ' +
    'them and restore again: ' +
    differing.map((s) => `kubectl delete secret ${s.metadata?.name} -n ${s.metadata?.namespace}`).join('; ')
  );
}
