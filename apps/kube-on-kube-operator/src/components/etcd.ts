/**
 * etcd: a StatefulSet of N members that find each other through the headless
 * Service; nothing with spec.etcd.external, whose etcd the user runs.
 */
import type { V1StatefulSet } from '@kubernetes/client-node';
import { CLUSTER_COMPONENTS, etcdImage } from '@kok/api';
import type { ResolvedCluster } from '../cluster-spec.ts';
import { renderFlags } from '../command-line.ts';
import type { ClusterNames } from '../names.ts';
import { clusterLabels, selectorLabels } from '../names.ts';
import {
  contentHash,
  TEMPLATE_HASH_ANNOTATION,
  templateHashDiffers,
  withTemplateHash,
} from '../template-hash.ts';
import { TRUST_BUNDLE_KEY } from '../pki/pki-material.ts';
import { statefulSetStatus } from '../workload-status.ts';
import type { ComponentStatus, ControlPlaneComponent, RenderContext } from './component.ts';
import { ownedMetadata, secretsHash } from './component.ts';
import { httpProbe, secretFiles, spreadOverNodes } from './pod-template.ts';
import { ETCD_CLIENT_PORT, ETCD_PEER_PORT } from './services.ts';

/** Bump to rewrite every Cluster's etcd on purpose (it rolls every member). 2: trusts the CA bundle (ca.crt). */
const TEMPLATE_VERSION = 2;

const ETCD_METRICS_PORT = 2381;
const ETCD_PKI_DIR = '/etc/etcd/pki';
const DATA_DIR = '/var/lib/etcd';

/** `--initial-cluster`: every member's name and peer URL. */
export function initialCluster(names: ClusterNames, replicas: number): string {
  return Array.from(
    { length: replicas },
    (_, i) => `${names.etcd}-${i}=https://${names.etcdMemberHost(i)}:${ETCD_PEER_PORT}`,
  ).join(',');
}

/** Client URLs of every member: the apiserver's --etcd-servers. */
export function etcdClientURLs(names: ClusterNames, replicas: number): string[] {
  return Array.from({ length: replicas }, (_, i) => `https://${names.etcdMemberHost(i)}:${ETCD_CLIENT_PORT}`);
}

/** The etcd command line; $(POD_NAME) is expanded by the kubelet from the pod's env. */
export function etcdArgs(cluster: ResolvedCluster, names: ClusterNames): string[] {
  const self = `$(POD_NAME).${names.etcd}.${names.namespace}.svc`;
  return renderFlags([
    ['name', '$(POD_NAME)'],
    ['data-dir', DATA_DIR],
    ['listen-client-urls', `https://0.0.0.0:${ETCD_CLIENT_PORT}`],
    ['advertise-client-urls', `https://${self}:${ETCD_CLIENT_PORT}`],
    ['listen-peer-urls', `https://0.0.0.0:${ETCD_PEER_PORT}`],
    ['initial-advertise-peer-urls', `https://${self}:${ETCD_PEER_PORT}`],
    ['initial-cluster', initialCluster(names, cluster.etcd.replicas)],
    ['initial-cluster-state', 'new'],
    ['initial-cluster-token', `${names.namespace}-${names.cluster}`],
    ['listen-metrics-urls', `http://0.0.0.0:${ETCD_METRICS_PORT}`],
    ['client-cert-auth', 'true'],
    ['trusted-ca-file', `${ETCD_PKI_DIR}/ca.crt`],
    ['cert-file', `${ETCD_PKI_DIR}/server.crt`],
    ['key-file', `${ETCD_PKI_DIR}/server.key`],
    ['peer-client-cert-auth', 'true'],
    ['peer-trusted-ca-file', `${ETCD_PKI_DIR}/ca.crt`],
    ['peer-cert-file', `${ETCD_PKI_DIR}/peer.crt`],
    ['peer-key-file', `${ETCD_PKI_DIR}/peer.key`],
    ['snapshot-count', '10000'],
  ]);
}

/**
 * Volumes outlive the StatefulSet: deleting it by hand (or losing it) keeps every member's data,
 * and the Cluster's teardown deletes the volumes itself. Scaling down keeps them for a scale up.
 */
const CLAIM_RETENTION = { whenDeleted: 'Retain', whenScaled: 'Retain' } as const;

function render(ctx: RenderContext): V1StatefulSet[] | undefined {
  const { cluster, names, pki } = ctx;
  if (cluster.etcd.external) return [];
  const version = cluster.etcd.version;
  if (!pki || !version) return undefined;
  const s = names.secrets;
  const mounted = [s.etcdCA, s.etcdServer, s.etcdPeer];
  const hash = contentHash({ TEMPLATE_VERSION, etcd: cluster.etcd, secrets: secretsHash(pki, mounted) });
  const labels = clusterLabels(names.cluster, 'etcd');
  const statefulSet: V1StatefulSet = {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: ownedMetadata(ctx, names.etcd, 'etcd'),
    spec: {
      serviceName: names.etcd,
      replicas: cluster.etcd.replicas,
      // Members start together: with OrderedReady, member 0 would wait forever for a quorum.
      podManagementPolicy: 'Parallel',
      updateStrategy: { type: 'RollingUpdate' },
      persistentVolumeClaimRetentionPolicy: CLAIM_RETENTION,
      selector: { matchLabels: selectorLabels(names.cluster, 'etcd') },
      template: {
        metadata: { labels, annotations: { [TEMPLATE_HASH_ANNOTATION]: hash } },
        spec: {
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          affinity: spreadOverNodes(names.cluster, 'etcd'),
          containers: [
            {
              name: 'etcd',
              image: etcdImage(version),
              command: ['etcd'],
              args: etcdArgs(cluster, names),
              env: [{ name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
              ports: [
                { name: 'client', containerPort: ETCD_CLIENT_PORT },
                { name: 'peer', containerPort: ETCD_PEER_PORT },
                { name: 'metrics', containerPort: ETCD_METRICS_PORT },
              ],
              startupProbe: httpProbe('startup', '/readyz', 'metrics', 'HTTP'),
              livenessProbe: httpProbe('liveness', '/livez', 'metrics', 'HTTP'),
              readinessProbe: httpProbe('readiness', '/readyz', 'metrics', 'HTTP'),
              volumeMounts: [
                { name: 'data', mountPath: DATA_DIR },
                { name: 'pki', mountPath: ETCD_PKI_DIR, readOnly: true },
              ],
            },
          ],
          volumes: [
            {
              name: 'pki',
              projected: secretFiles([
                // The trust bundle: old and new CA while a CA rotation is under way.
                { secret: s.etcdCA, key: TRUST_BUNDLE_KEY, path: 'ca.crt' },
                { secret: s.etcdServer, key: 'tls.crt', path: 'server.crt' },
                { secret: s.etcdServer, key: 'tls.key', path: 'server.key' },
                { secret: s.etcdPeer, key: 'tls.crt', path: 'peer.crt' },
                { secret: s.etcdPeer, key: 'tls.key', path: 'peer.key' },
              ]),
            },
          ],
        },
      },
      volumeClaimTemplates: [
        {
          metadata: { name: 'data', labels },
          spec: {
            accessModes: ['ReadWriteOnce'],
            resources: { requests: { storage: cluster.etcd.storage.size } },
            ...(cluster.etcd.storage.storageClassName
              ? { storageClassName: cluster.etcd.storage.storageClassName }
              : {}),
          },
        },
      ],
    },
  };
  // The retention policy is in the object's hash, not the pods': changing it rewrites the StatefulSet without rolling a member.
  return [withTemplateHash(statefulSet, contentHash({ pods: hash, claimRetention: CLAIM_RETENTION }))];
}

export const etcd: ControlPlaneComponent = {
  ...CLUSTER_COMPONENTS.etcd,
  label: 'etcd',
  render,
  needsUpdate: templateHashDiffers,
  status: (observed, desired, ctx) =>
    ctx.cluster.etcd.external
      ? externalEtcdStatus(ctx.cluster.etcd.external.endpoints)
      : statefulSetStatus(
          observed[0] as V1StatefulSet | undefined,
          desired[0] as V1StatefulSet,
          ctx.cluster.etcd.version ?? '',
        ),
};

/**
 * An external etcd is taken as given: the operator cannot see its members, and the
 * apiserver, gated on it, turns Ready only once it reaches it.
 */
export function externalEtcdStatus(endpoints: readonly string[]): ComponentStatus {
  return {
    available: true,
    availableAtDesired: true,
    reason: 'ExternalEtcd',
    message: `etcd is run outside this operator at ${endpoints.join(', ')}; APIServerAvailable shows whether kube-apiserver reaches it`,
  };
}
