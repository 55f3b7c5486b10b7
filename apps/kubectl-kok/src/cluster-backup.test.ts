import { createHash, createPublicKey, X509Certificate } from 'node:crypto';
import { createCertificateAuthority, createServiceAccountKeyPair } from '@kok/pki';
import type { V1Secret } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CommandError } from './cli-errors.ts';
import {
  clusterBackup,
  clusterSecretSelector,
  differingSecretsNote,
  parseBackup,
  planRestore,
  renderBackup,
  restorableCluster,
  restorableSecret,
} from './cluster-backup.ts';
import type { RestoreStep } from './cluster-backup.ts';
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
        // node-api-hash records what the operator installed in a biz etcd that may come back empty.
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
    expect(parseBackup(text, 'backup.yaml')).toEqual({ clusters: [backup.cluster], secrets: backup.secrets });
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

describe('planRestore', () => {
  const contents = () => ({
    clusters: [restorableCluster(cluster())],
    secrets: [restorableSecret(caSecret), restorableSecret(leaf)],
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
