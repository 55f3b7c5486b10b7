import { createHash, createPublicKey, X509Certificate } from 'node:crypto';
import { createCertificateAuthority, createServiceAccountKeyPair } from '@kok/pki';
import type { ClusterStatus, Condition } from '@kok/api';
import type { V1Secret } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CommandError } from './cli-errors.ts';
import {
  clusterBackup,
  clusterSecretSelector,
  differingSecretsNote,
  ETCD_SNAPSHOT_TIMEOUT_MS,
  etcdBackupNote,
  etcdSnapshotRequestValue,
  judgeEtcdSnapshot,
  etcdSnapshotLine,
  NO_SNAPSHOT_DIRECTORY_GRACE_MS,
  parseBackup,
  parseEtcdSnapshotLine,
  planEtcdRestore,
  planRestore,
  renderBackup,
  restoredEtcdNote,
  restorableCluster,
  restorableSecret,
} from './cluster-backup.ts';
import type { ClusterBackup, EtcdSnapshot, EtcdSnapshotRequest, RestoreStep } from './cluster-backup.ts';
import type { ClusterObject } from './resources.ts';

const UID = 'uid-of-prod';
const LABELS = {
  'clusters.kok.dev/cluster': 'prod',
  'clusters.kok.dev/component': 'pki',
  'app.kubernetes.io/managed-by': 'kube-on-kube-operator',
};
const base64 = (text: string) => Buffer.from(text).toString('base64');
const sha256 = (der: Buffer) => createHash('sha256').update(der).digest('hex');

/** Everything the apiserver and the operator put on a live object, none of which a restore may carry. */
const liveMetadata = (name: string, controllerUid: string | undefined = UID) => ({
  name,
  namespace: 'fleet',
  uid: `uid-of-${name}`,
  resourceVersion: '42',
  generation: 3,
  creationTimestamp: new Date('2026-01-01T00:00:00Z'),
  managedFields: [{ manager: 'kube-on-kube-operator', operation: 'Apply' }],
  finalizers: ['clusters.kok.dev/cluster'],
  labels: { ...LABELS },
  annotations: { 'clusters.kok.dev/template-hash': 'abc' },
  ...(controllerUid
    ? {
        ownerReferences: [
          {
            apiVersion: 'clusters.kok.dev/v1alpha1',
            kind: 'Cluster',
            name: 'prod',
            uid: controllerUid,
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
      }
    : {}),
});

let caSecret: V1Secret;
let saSecret: V1Secret;
let caFingerprint: string;
let saFingerprint: string;
const leaf: V1Secret = {
  metadata: liveMetadata('prod-admin-kubeconfig'),
  type: 'Opaque',
  data: { kubeconfig: base64('apiVersion: v1\nkind: Config\n') },
};

beforeAll(async () => {
  const ca = await createCertificateAuthority({ commonName: 'prod-ca' });
  const sa = await createServiceAccountKeyPair();
  caSecret = {
    metadata: liveMetadata('prod-ca'),
    type: 'kubernetes.io/tls',
    data: { 'tls.crt': base64(ca.certificatePem), 'tls.key': base64(ca.privateKeyPem) },
  };
  saSecret = {
    metadata: liveMetadata('prod-sa'),
    type: 'Opaque',
    data: { 'sa.key': base64(sa.privateKeyPem), 'sa.pub': base64(sa.publicKeyPem) },
  };
  caFingerprint = sha256(new X509Certificate(ca.certificatePem).raw);
  saFingerprint = sha256(createPublicKey(sa.publicKeyPem).export({ type: 'spki', format: 'der' }));
});

const cluster = (overrides: Partial<ClusterObject> = {}): ClusterObject =>
  ({
    apiVersion: 'clusters.kok.dev/v1alpha1',
    kind: 'Cluster',
    metadata: {
      ...liveMetadata('prod', undefined),
      labels: { team: 'payments' },
      annotations: {
        'clusters.kok.dev/node-api-hash': 'h1',
        'clusters.kok.dev/deletion-protection': 'true',
        'clusters.kok.dev/etcd-snapshot-request': 'backup-20260101T000000000Z',
      },
    },
    spec: { version: 'v1.36.3' },
    status: { phase: 'Ready', pki: { caSHA256: caFingerprint, serviceAccountKeySHA256: saFingerprint } },
    ...overrides,
  }) as ClusterObject;

function failing(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(CommandError);
    return (error as Error).message;
  }
  throw new Error('expected a CommandError');
}

describe('what a backup keeps of each object', () => {
  it('a Cluster: its spec, name, namespace, labels and chosen annotations; nothing the apiserver or operator assigned', () => {
    expect(restorableCluster(cluster())).toEqual({
      apiVersion: 'clusters.kok.dev/v1alpha1',
      kind: 'Cluster',
      metadata: {
        name: 'prod',
        namespace: 'fleet',
        labels: { team: 'payments' },
        // node-api-hash records what the operator installed in a biz etcd that may come back empty; a
        // snapshot request, restored, would ask the restored Cluster for a snapshot nobody wanted.
        annotations: { 'clusters.kok.dev/deletion-protection': 'true' },
      },
      spec: { version: 'v1.36.3' },
    });
  });

  it('a Secret: its data, type, labels and annotations, and no ownerReferences (they would name a gone uid)', () => {
    expect(restorableSecret(leaf)).toEqual({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: 'prod-admin-kubeconfig',
        namespace: 'fleet',
        labels: LABELS,
        annotations: { 'clusters.kok.dev/template-hash': 'abc' },
      },
      type: 'Opaque',
      data: leaf.data,
    });
  });
});

describe('clusterBackup', () => {
  it('takes the labelled Secrets the Cluster controls, sorted, made restorable', () => {
    const backup = clusterBackup(cluster(), [saSecret, leaf, caSecret], undefined);
    expect(backup.secrets.map((s) => s.metadata?.name)).toEqual([
      'prod-admin-kubeconfig',
      'prod-ca',
      'prod-sa',
    ]);
    expect(backup.secrets.every((s) => s.metadata && !('ownerReferences' in s.metadata))).toBe(true);
    expect(backup.warnings).toEqual([]);
  });

  it.each<[string, NonNullable<ClusterObject['spec']['etcd']>, ClusterObject['spec']['etcd'] | undefined]>([
    [
      'keeps the rest of spec.etcd',
      { replicas: 3, restoreFrom: { claimName: 'snaps', path: 'fleet/prod/prod-1.db' } },
      { replicas: 3 },
    ],
    ['drops spec.etcd that held only it', { restoreFrom: { claimName: 'snaps', path: 'x.db' } }, undefined],
  ])(
    'leaves out spec.etcd.restoreFrom (how the Cluster was born, an old snapshot if restored): %s',
    (_, etcd, kept) => {
      const born = cluster({ spec: { version: 'v1.36.3', etcd } as ClusterObject['spec'] });
      const { cluster: saved } = clusterBackup(born, [caSecret, saSecret], undefined);
      expect(saved.spec.etcd).toEqual(kept);
      expect('etcd' in saved.spec).toBe(kept !== undefined);
      expect(saved.spec.version).toBe('v1.36.3');
      // The live object is not touched.
      expect(born.spec.etcd?.restoreFrom).toBeDefined();
    },
  );

  it('leaves out the etcd join Secret: membership state, no identity, that would misguide a restored etcd', () => {
    const join = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: liveMetadata('prod-etcd-join'),
      data: { 'initial-cluster-state': base64('existing') },
    };
    const backup = clusterBackup(cluster(), [saSecret, join, leaf, caSecret], undefined);
    expect(backup.secrets.map((s) => s.metadata?.name)).toEqual([
      'prod-admin-kubeconfig',
      'prod-ca',
      'prod-sa',
    ]);
    expect(backup.warnings).toEqual([]);
  });

  it('takes a labelled Secret nothing controls (restored earlier, not yet adopted)', () => {
    const unowned = { ...leaf, metadata: liveMetadata('prod-admin-kubeconfig', undefined) };
    const backup = clusterBackup(cluster(), [caSecret, saSecret, unowned], undefined);
    expect(backup.secrets.map((s) => s.metadata?.name)).toContain('prod-admin-kubeconfig');
  });

  it('leaves out, with a warning, a labelled Secret another object controls', () => {
    const stranger = { ...leaf, metadata: liveMetadata('prod-admin-kubeconfig', 'uid-of-another') };
    const backup = clusterBackup(cluster(), [caSecret, saSecret, stranger], undefined);
    expect(backup.secrets.map((s) => s.metadata?.name)).toEqual(['prod-ca', 'prod-sa']);
    expect(backup.warnings).toEqual([
      expect.stringMatching(
        /^Secret "prod-admin-kubeconfig" carries the labels of Cluster "prod" but is controlled by Cluster "prod" \(uid uid-of-another\), not by it: left out/,
      ),
    ]);
  });

  it('refuses when a CA that status.pki records is in none of the Secrets, naming the fingerprint', () => {
    const message = failing(() => clusterBackup(cluster(), [saSecret, leaf], undefined));
    expect(message).toContain(
      `status.pki records caSHA256 ${caFingerprint}, but no Secret labelled ${clusterSecretSelector('prod')} holds it`,
    );
    expect(message).toContain('kubectl kok cluster get prod -n fleet');
  });

  it('refuses when the service-account key is another one than status.pki records', async () => {
    const other = await createServiceAccountKeyPair();
    const replaced = { ...saSecret, data: { ...saSecret.data, 'sa.pub': base64(other.publicKeyPem) } };
    expect(failing(() => clusterBackup(cluster(), [caSecret, replaced], undefined))).toContain(
      `serviceAccountKeySHA256 ${saFingerprint}`,
    );
  });

  it('backs up a Cluster without recorded PKI (not up yet) with what there is, and says so when that is nothing', () => {
    const young = cluster({ status: { phase: 'Provisioning' } } as Partial<ClusterObject>);
    expect(clusterBackup(young, [], undefined).warnings).toEqual([
      expect.stringMatching(/^Cluster "prod" has no PKI Secrets yet .*only its spec is backed up$/),
    ]);
  });

  it('takes the external etcd Secret the spec names (the user’s, unlabelled), or warns that it is missing', () => {
    const external = cluster({
      spec: {
        version: 'v1.36.3',
        etcd: {
          external: { endpoints: ['https://etcd.example:2379'], tlsSecretRef: { name: 'etcd-client' } },
        },
      },
    } as Partial<ClusterObject>);
    const etcdClient: V1Secret = {
      metadata: { name: 'etcd-client', namespace: 'fleet', uid: 'u' },
      data: { 'tls.crt': 'eA==' },
    };
    expect(
      clusterBackup(external, [caSecret, saSecret], etcdClient).secrets.map((s) => s.metadata?.name),
    ).toEqual(['prod-ca', 'prod-sa', 'etcd-client']);
    expect(clusterBackup(external, [caSecret, saSecret], undefined).warnings).toEqual([
      expect.stringMatching(/^Secret "etcd-client" \(spec.etcd.external.tlsSecretRef\) does not exist/),
    ]);
  });
});

describe('the backup file', () => {
  it('says it holds private keys and no etcd data, lists Secrets before Clusters, and reads back as it was', () => {
    const backup = clusterBackup(cluster(), [caSecret, saSecret, leaf], undefined);
    const text = renderBackup([backup], new Date('2026-03-01T12:00:00Z'), 'https://meta:6443');
    expect(text).toMatch(
      /^# kubectl kok cluster backup of fleet\/prod from https:\/\/meta:6443, 2026-03-01T12:00:00.000Z\n/,
    );
    expect(text).toContain('# PRIVATE KEYS');
    expect(text).toContain('# No etcd data');
    const kinds = text
      .split('\n---\n')
      .slice(1)
      .map((document) => (parse(document) as { kind: string }).kind);
    expect(kinds).toEqual(['Secret', 'Secret', 'Secret', 'Cluster']);
    expect(parseBackup(text, 'backup.yaml')).toEqual({
      clusters: [backup.cluster],
      secrets: backup.secrets,
      etcdSnapshots: new Map(),
    });
  });

  it('reads `kubectl get -o yaml` output too (a List, with live metadata), and strips that metadata', () => {
    const list = JSON.stringify({
      apiVersion: 'v1',
      kind: 'List',
      items: [{ apiVersion: 'v1', kind: 'Secret', ...leaf }, cluster()],
    });
    expect(parseBackup(list, 'export.yaml')).toEqual({
      secrets: [restorableSecret(leaf)],
      clusters: [restorableCluster(cluster())],
      etcdSnapshots: new Map(),
    });
  });

  it.each([
    ['', 'empty.yaml holds no objects'],
    [
      'kind: Deployment\napiVersion: apps/v1\nmetadata: {name: x, namespace: fleet}\n',
      'a backup holds only Secrets (v1) and Clusters',
    ],
    ['kind: Secret\napiVersion: v1\nmetadata: {name: x}\n', 'has no metadata.name or metadata.namespace'],
    ['kind: Secret\n  bad: [\n', 'document 1 is not valid YAML'],
  ])('refuses %j: %s', (text, message) => {
    const source = text === '' ? 'empty.yaml' : 'file.yaml';
    expect(failing(() => parseBackup(text, source))).toContain(message);
  });
});

const SNAPSHOT: EtcdSnapshot = {
  file: 'fleet/prod/prod-20260301T115959123Z.db',
  time: '2026-03-01T11:59:59Z',
  member: 'prod-etcd-1',
  revision: 4711,
  sizeBytes: 2_097_152,
  sha256: 'ab'.repeat(32),
  request: 'backup-20260301T115958000Z',
};

describe('the backup file with etcd snapshots', () => {
  const TAKEN_AT = new Date('2026-03-01T12:00:00Z');
  const named = (name: string, etcdSnapshot?: EtcdSnapshot, external = false): ClusterBackup => ({
    cluster: restorableCluster(
      cluster({
        metadata: { name, namespace: 'fleet' },
        spec: {
          version: 'v1.36.3',
          ...(external
            ? {
                etcd: {
                  external: {
                    endpoints: ['https://etcd.example:2379'],
                    tlsSecretRef: { name: 'etcd-client' },
                  },
                },
              }
            : {}),
        } as ClusterObject['spec'],
      }),
    ),
    secrets: [],
    warnings: [],
    ...(etcdSnapshot ? { etcdSnapshot } : {}),
  });
  const snapshotLine =
    "etcd snapshot of fleet/prod: fleet/prod/prod-20260301T115959123Z.db on the operator's snapshot volume " +
    `(revision 4711, sha256 ${'ab'.repeat(32)}, taken 2026-03-01T11:59:59Z)`;
  const headerOf = (text: string) => text.split('\n---\n')[0]?.split('\n') ?? [];
  const RESTORE_WITH_CLAIM =
    'kubectl kok cluster restore -f <backup> --etcd-snapshot-claim ' +
    "<a claim in the Cluster's namespace whose volume holds the operator's snapshot directory>";

  it.each<[string, ClusterBackup[], string[], string[]]>([
    [
      'no snapshot: the generic line on etcd volumes',
      [named('prod')],
      ["# No etcd data: back up each Cluster's etcd volumes (claims data-<cluster>-etcd-N) on their own."],
      ['note: it holds no etcd data; the etcd volumes of each Cluster'],
    ],
    [
      'every Cluster with a snapshot: one line each, no generic line',
      [named('prod', SNAPSHOT)],
      [`# ${snapshotLine}`],
      [`note: ${snapshotLine}; to start the restored Cluster's etcd from it: ${RESTORE_WITH_CLAIM}.`],
    ],
    [
      'some with a snapshot: the others named, an external etcd as backed up where it runs',
      [named('prod', SNAPSHOT), named('edge', undefined, true), named('lab')],
      [
        `# ${snapshotLine}`,
        '# No etcd data of fleet/lab: back up the etcd volumes (claims data-<cluster>-etcd-N) on their own.',
        '# No etcd data of fleet/edge: an external etcd (spec.etcd.external), backed up where it runs.',
      ],
      [
        `note: ${snapshotLine}; to start the restored Cluster's etcd from it: ${RESTORE_WITH_CLAIM}.`,
        'note: No etcd data of fleet/lab: back up the etcd volumes',
        'note: No etcd data of fleet/edge: an external etcd',
      ],
    ],
  ])('%s', (_, backups, headerLines, noteLines) => {
    const header = headerOf(renderBackup(backups, TAKEN_AT, 'https://meta:6443'));
    // Between the private-keys warning and the restore line, exactly these.
    expect(header.slice(3, -1)).toEqual(headerLines);
    expect(header.at(-1)).toBe(
      backups.some((b) => b.etcdSnapshot)
        ? '# Restore with: kubectl kok cluster restore -f <this file> --etcd-snapshot-claim ' +
            "<a claim in the Cluster's namespace whose volume holds the operator's snapshot directory> " +
            '(without it, etcd starts from the volumes it finds, or empty)'
        : '# Restore with: kubectl kok cluster restore -f <this file>',
    );
    const note = etcdBackupNote(backups).split('\n').slice(0, -1);
    expect(note).toHaveLength(noteLines.length);
    noteLines.forEach((line, index) => expect(note[index]).toContain(line));
  });

  it('reads back the snapshot each header line names, by Cluster: render, then parse', () => {
    const other: EtcdSnapshot = { ...SNAPSHOT, file: 'lab/db/db-20260301T120001000Z.db', revision: 7 };
    const backups = [
      named('prod', SNAPSHOT),
      named('edge', undefined, true),
      named('lab'),
      {
        ...named('db', other),
        cluster: { ...named('db').cluster, metadata: { name: 'db', namespace: 'lab' } },
      },
    ];
    const text = renderBackup(backups, TAKEN_AT, 'https://meta:6443');
    const contents = parseBackup(text, 'backup.yaml');
    expect(contents.etcdSnapshots).toEqual(
      new Map([
        ['fleet/prod', SNAPSHOT.file],
        ['lab/db', other.file],
      ]),
    );
    expect(contents.clusters.map((c) => c.metadata?.name)).toEqual(['prod', 'edge', 'lab', 'db']);
  });

  it.each<[string, string, { cluster: string; file: string } | undefined]>([
    [
      'the line itself',
      etcdSnapshotLine({ ...named('prod'), etcdSnapshot: SNAPSHOT }),
      { cluster: 'fleet/prod', file: SNAPSHOT.file },
    ],
    ['as a header comment', `# ${snapshotLine}`, { cluster: 'fleet/prod', file: SNAPSHOT.file }],
    ['another comment', '# No etcd data of fleet/lab: back up the etcd volumes', undefined],
    ['a line cut short', `# ${snapshotLine.slice(0, -1)}`, undefined],
  ])('parseEtcdSnapshotLine: %s', (_, line, expected) => {
    expect(parseEtcdSnapshotLine(line)).toEqual(expected);
  });

  it('refuses a file that names two snapshots of one Cluster (two backups joined): which one is not for it to guess', () => {
    const first = renderBackup([named('prod', SNAPSHOT)], TAKEN_AT, 'https://meta:6443');
    const second = renderBackup(
      [named('prod', { ...SNAPSHOT, file: 'fleet/prod/prod-20260302T000000000Z.db' })],
      TAKEN_AT,
      'https://meta:6443',
    );
    expect(failing(() => parseBackup(`${first}${second}`, 'joined.yaml'))).toContain(
      'joined.yaml names two etcd snapshots of fleet/prod (fleet/prod/prod-20260301T115959123Z.db and ' +
        'fleet/prod/prod-20260302T000000000Z.db)',
    );
    // The same snapshot twice is no question.
    expect(parseBackup(`${first}${first}`, 'twice.yaml').etcdSnapshots.get('fleet/prod')).toBe(SNAPSHOT.file);
  });

  it('keeps a spec.etcd.restoreFrom the file gives (a person put it there)', () => {
    const edited = renderBackup([named('prod', SNAPSHOT)], TAKEN_AT, 'https://meta:6443').replace(
      'version: v1.36.3',
      'version: v1.36.3\n  etcd:\n    restoreFrom:\n      claimName: mine\n      path: a/b.db',
    );
    expect(parseBackup(edited, 'edited.yaml').clusters[0]?.spec.etcd).toEqual({
      restoreFrom: { claimName: 'mine', path: 'a/b.db' },
    });
  });

  it('asks with a new value each run: the UTC time to the millisecond', () => {
    expect(etcdSnapshotRequestValue(new Date('2026-03-01T11:59:58.042Z'))).toBe('backup-20260301T115958042Z');
  });
});

describe('judgeEtcdSnapshot', () => {
  const AT = new Date('2026-03-01T11:59:58.500Z');
  const VALUE = 'backup-20260301T115958500Z';
  const request = (before?: Condition): EtcdSnapshotRequest => ({
    cluster: 'fleet/prod',
    value: VALUE,
    at: AT,
    ...(before ? { before } : {}),
  });
  const condition = (
    status: 'True' | 'False',
    reason: string,
    lastTransitionTime: string,
    message = 'why',
  ): Condition => ({
    type: 'EtcdBackup',
    status,
    reason,
    message,
    lastTransitionTime,
  });
  const noDirectory = condition(
    'False',
    'NoSnapshotDirectory',
    '2026-03-01T10:00:00Z',
    'a snapshot is due and not taken: the operator runs without --etcd-snapshot-dir, so it has nowhere to write snapshots',
  );
  const oldFailure = condition(
    'False',
    'SnapshotFailed',
    '2026-03-01T11:00:00Z',
    'failed: EOF; tried again at 11:05',
  );
  const status = (etcdBackup?: Condition, lastSnapshot?: EtcdSnapshot): ClusterStatus =>
    ({
      ...(etcdBackup ? { conditions: [etcdBackup] } : {}),
      ...(lastSnapshot ? { etcd: { lastSnapshot } } : {}),
    }) as ClusterStatus;
  const after = (ms: number) => new Date(AT.getTime() + ms);

  it.each<[string, EtcdSnapshotRequest, ClusterStatus | undefined, Date, 'done' | 'wait' | RegExp]>([
    ['no status yet: wait', request(), undefined, after(1000), 'wait'],
    [
      'the last snapshot answers another request: wait',
      request(),
      status(condition('True', 'SnapshotTaken', '2026-03-01T10:00:00Z'), {
        ...SNAPSHOT,
        request: 'backup-older',
      }),
      after(1000),
      'wait',
    ],
    [
      'the last snapshot answers this request: done',
      request(),
      status(condition('True', 'SnapshotTaken', '2026-03-01T10:00:00Z'), { ...SNAPSHOT, request: VALUE }),
      after(1000),
      'done',
    ],
    [
      'answered although EtcdBackup still reads False from before: done',
      request(oldFailure),
      status(oldFailure, { ...SNAPSHOT, request: VALUE }),
      after(1000),
      'done',
    ],
    [
      'EtcdBackup turned False in the second of the request: failed, with its reason and message',
      request(condition('True', 'SnapshotTaken', '2026-03-01T10:00:00Z')),
      status(
        condition(
          'False',
          'SnapshotFailed',
          '2026-03-01T11:59:58Z',
          'etcd snapshot from prod-etcd-1 failed: EOF',
        ),
      ),
      after(2000),
      /^the etcd snapshot of fleet\/prod \(request backup-20260301T115958500Z\) was not taken: EtcdBackup is False \(SnapshotFailed\): etcd snapshot from prod-etcd-1 failed: EOF \(the operator tries again after 5 minutes\); nothing is written$/,
    ],
    [
      'False before the request and unchanged: an old failure, wait (the operator pauses before it tries again)',
      request(oldFailure),
      status(oldFailure),
      after(60_000),
      'wait',
    ],
    [
      'False before, and a new failure since (its message changed): failed',
      request(oldFailure),
      status({ ...oldFailure, message: 'failed: timeout; tried again at 12:05' }),
      after(2000),
      /EtcdBackup is False \(SnapshotFailed\): failed: timeout/,
    ],
    [
      'False before, now for want of a healthy member: failed',
      request(oldFailure),
      status(condition('False', 'NoHealthyMember', '2026-03-01T11:00:00Z', 'no voting etcd member answers')),
      after(2000),
      /EtcdBackup is False \(NoHealthyMember\)/,
    ],
    [
      'turned False for want of a snapshot directory: failed, saying the operator lacks --etcd-snapshot-dir',
      request(),
      status({ ...noDirectory, lastTransitionTime: '2026-03-01T11:59:59Z' }),
      after(1000),
      /EtcdBackup is False \(NoSnapshotDirectory\): .* \(the operator runs without --etcd-snapshot-dir, so it has nowhere to write snapshots: give it one \(a volume its pod mounts\), or back up without --etcd-snapshot\); nothing is written$/,
    ],
    [
      'no snapshot directory already before the request, within the grace: wait for the operator to see it',
      request(noDirectory),
      status(noDirectory),
      after(NO_SNAPSHOT_DIRECTORY_GRACE_MS - 1),
      'wait',
    ],
    [
      'no snapshot directory already before the request, past the grace: failed',
      request(noDirectory),
      status(noDirectory),
      after(NO_SNAPSHOT_DIRECTORY_GRACE_MS),
      /NoSnapshotDirectory.*without --etcd-snapshot-dir/,
    ],
    [
      'EtcdBackup True from an older snapshot, just before the timeout: wait',
      request(),
      status(condition('True', 'SnapshotTaken', '2026-03-01T10:00:00Z', 'last snapshot x')),
      after(ETCD_SNAPSHOT_TIMEOUT_MS - 1),
      'wait',
    ],
    [
      'nothing answers within the timeout: failed, with the condition as it reads',
      request(),
      status(condition('True', 'SnapshotTaken', '2026-03-01T10:00:00Z', 'last snapshot x')),
      after(ETCD_SNAPSHOT_TIMEOUT_MS),
      /no snapshot answered it within 6 minutes; EtcdBackup is True \(SnapshotTaken\): last snapshot x\. Is the kube-on-kube operator running\?; nothing is written$/,
    ],
    [
      'no condition at all within the timeout: failed',
      request(),
      undefined,
      after(ETCD_SNAPSHOT_TIMEOUT_MS),
      /no snapshot answered it within 6 minutes\. Is the kube-on-kube operator running/,
    ],
  ])('%s', (_, asked, clusterStatus, now, expected) => {
    const verdict = judgeEtcdSnapshot(asked, clusterStatus, now);
    if (expected === 'done')
      expect(verdict).toEqual({ kind: 'done', snapshot: { ...SNAPSHOT, request: VALUE } });
    else if (expected === 'wait') expect(verdict).toEqual({ kind: 'wait' });
    else {
      expect(verdict.kind).toBe('failed');
      expect(verdict.kind === 'failed' ? verdict.message : '').toMatch(expected);
    }
  });
});

describe('planRestore', () => {
  const contents = () => ({
    clusters: [restorableCluster(cluster())],
    secrets: [restorableSecret(caSecret), restorableSecret(leaf)],
    etcdSnapshots: new Map<string, string>(),
  });
  const actions = (steps: RestoreStep[]) =>
    steps.map((s) => `${s.kind} ${s.object.metadata?.name} ${s.action}`);

  it('creates every Secret, then the Cluster, into an empty meta-cluster', () => {
    const steps = planRestore(contents(), new Map(), new Map());
    expect(actions(steps)).toEqual([
      'Secret prod-ca create',
      'Secret prod-admin-kubeconfig create',
      'Cluster prod create',
    ]);
    expect(differingSecretsNote(steps)).toBeUndefined();
  });

  it('leaves a Secret with the same data and an existing Cluster as they are (a restore run twice)', () => {
    const steps = planRestore(
      contents(),
      new Map([['fleet/prod-ca', caSecret]]),
      new Map([['fleet/prod', cluster()]]),
    );
    expect(actions(steps)).toEqual([
      'Secret prod-ca unchanged',
      'Secret prod-admin-kubeconfig create',
      'Cluster prod exists',
    ]);
  });

  it('never overwrites a Secret with other data (the cluster may use it), and says how to put the backup’s back', () => {
    const rotated = { ...caSecret, data: { ...caSecret.data, 'tls.crt': base64('another CA') } };
    const steps = planRestore(contents(), new Map([['fleet/prod-ca', rotated]]), new Map());
    expect(actions(steps)).toEqual([
      'Secret prod-ca differs',
      'Secret prod-admin-kubeconfig create',
      'Cluster prod create',
    ]);
    expect(differingSecretsNote(steps)).toMatch(
      /^1 Secret\(s\) exist with other data than the backup's and were left as they are: .*kubectl delete secret prod-ca -n fleet$/,
    );
  });
});

describe('planEtcdRestore (--etcd-snapshot-claim)', () => {
  const FILE = 'fleet/prod/prod-20260301T115959123Z.db';
  const EXTERNAL = {
    external: { endpoints: ['https://etcd.example:2379'], tlsSecretRef: { name: 'etcd-client' } },
  };
  const clusterStep = (
    name: string,
    action: RestoreStep['action'] = 'create',
    etcd?: ClusterObject['spec']['etcd'],
  ): RestoreStep => ({
    kind: 'Cluster',
    action,
    object: restorableCluster(
      cluster({
        metadata: { name, namespace: 'fleet' },
        spec: { version: 'v1.36.3', ...(etcd ? { etcd } : {}) } as ClusterObject['spec'],
      }),
    ),
  });
  const secretStep: RestoreStep = { kind: 'Secret', action: 'create', object: restorableSecret(leaf) };
  const restoreFromOf = (step: RestoreStep | undefined) =>
    (step?.object as ClusterObject | undefined)?.spec.etcd?.restoreFrom;

  it.each<[string, RestoreStep, Map<string, string>, ClusterObject['spec']['etcd'], string[], string[]]>([
    [
      'a Cluster created starts from the snapshot the backup names, on the claim',
      clusterStep('prod', 'create', { replicas: 3 }),
      new Map([['fleet/prod', FILE]]),
      { replicas: 3, restoreFrom: { claimName: 'snaps', path: FILE } },
      [`Cluster fleet/prod starts its etcd from ${FILE} on claim snaps in namespace fleet`],
      [],
    ],
    [
      'the snapshot replaces a restoreFrom the file gives, and says so',
      clusterStep('prod', 'create', { restoreFrom: { claimName: 'old', path: 'old.db' } }),
      new Map([['fleet/prod', FILE]]),
      { restoreFrom: { claimName: 'snaps', path: FILE } },
      [`Cluster fleet/prod starts its etcd from ${FILE} on claim snaps in namespace fleet`],
      [
        'Cluster fleet/prod: spec.etcd.restoreFrom of the file (old.db on claim old) is replaced by the snapshot the backup names',
      ],
    ],
    [
      'without a snapshot line, a restoreFrom the file gives is kept',
      clusterStep('prod', 'create', { restoreFrom: { claimName: 'mine', path: 'a/b.db' } }),
      new Map(),
      { restoreFrom: { claimName: 'mine', path: 'a/b.db' } },
      ['Cluster fleet/prod starts its etcd from a/b.db on claim mine (spec.etcd.restoreFrom of the file)'],
      [],
    ],
    [
      'an external etcd is left as it is, with a warning',
      clusterStep('edge', 'create', EXTERNAL),
      new Map(),
      EXTERNAL,
      [],
      [
        "Cluster fleet/edge uses an external etcd (spec.etcd.external): its etcd is not the operator's to restore, " +
          'the Cluster is restored as the backup has it',
      ],
    ],
    [
      'a Cluster that exists is left alone, with a warning that its etcd is not restored',
      clusterStep('prod', 'exists'),
      new Map([['fleet/prod', FILE]]),
      undefined,
      [],
      [
        `Cluster fleet/prod exists: left as it is, and its etcd is not restored from ${FILE} ` +
          '(spec.etcd.restoreFrom applies only to a new Cluster)',
      ],
    ],
  ])('%s', (_, step, snapshots, etcd, starts, warnings) => {
    const plan = planEtcdRestore([secretStep, step], snapshots, 'snaps');
    expect(plan.steps[0]).toBe(secretStep);
    expect(plan.steps[1]?.action).toBe(step.action);
    expect((plan.steps[1]?.object as ClusterObject).spec.etcd).toEqual(etcd);
    expect(plan.starts).toEqual(starts);
    expect(plan.warnings).toEqual(warnings);
  });

  it('the note after the restore names the Clusters whose etcd the operator restores, and only those created', () => {
    const plan = planEtcdRestore(
      [clusterStep('prod'), clusterStep('lab', 'exists')],
      new Map([
        ['fleet/prod', FILE],
        ['fleet/lab', 'fleet/lab/lab-1.db'],
      ]),
      'snaps',
    );
    expect(restoredEtcdNote(plan.steps)).toMatch(
      /^the operator restores the etcd of fleet\/prod from spec\.etcd\.restoreFrom before first starting it .*no other etcd data was restored\.$/,
    );
    expect(restoredEtcdNote([clusterStep('prod'), clusterStep('lab', 'exists')])).toBe(
      'no etcd data was restored; an etcd whose volumes are gone starts empty.',
    );
  });

  it('does not change the steps it was given', () => {
    const step = clusterStep('prod');
    planEtcdRestore([step], new Map([['fleet/prod', FILE]]), 'snaps');
    expect(restoreFromOf(step)).toBeUndefined();
  });

  it('refuses, naming them, when Clusters it would create run their own etcd and the backup names no snapshot of them', () => {
    const message = failing(() =>
      planEtcdRestore(
        [
          clusterStep('prod'),
          clusterStep('lab'),
          clusterStep('web'),
          clusterStep('edge', 'create', EXTERNAL),
        ],
        new Map([['fleet/prod', FILE]]),
        'snaps',
      ),
    );
    expect(message).toBe(
      '--etcd-snapshot-claim: the backup names no etcd snapshot of fleet/lab, fleet/web, which run their own etcd, ' +
        'so they would start empty; nothing is written. Back them up with --etcd-snapshot ' +
        '(kubectl kok cluster backup lab -n fleet --etcd-snapshot; kubectl kok cluster backup web -n fleet --etcd-snapshot), ' +
        'or restore without --etcd-snapshot-claim',
    );
  });
});
