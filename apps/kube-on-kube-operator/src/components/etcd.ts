/**
 * etcd: a StatefulSet of N members that find each other through the headless
 * Service; nothing with spec.etcd.external, whose etcd the user runs.
 */
import type {
  KubernetesObject,
  V1PersistentVolumeClaimSpec,
  V1Secret,
  V1StatefulSet,
} from '@kubernetes/client-node';
import type { EtcdMembership, JoinConfig } from '../etcd/membership-plan.ts';
import { CLUSTER_COMPONENTS, etcdImage, pinnedImage } from '@kok/api';
import { imagePinOf } from './image-pin.ts';
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
import { CONTROL_PLANE_POD_SECURITY, httpProbe, secretFiles, spreadOverNodes } from './pod-template.ts';
import { ETCD_CLIENT_PORT, ETCD_PEER_PORT } from './services.ts';

/**
 * Bump to rewrite every Cluster's etcd on purpose (it rolls every member). 2: trusts the CA bundle (ca.crt).
 * 3: the initial cluster from the join Secret, not the args.
 */
const TEMPLATE_VERSION = 3;

const ETCD_METRICS_PORT = 2381;
const ETCD_PKI_DIR = '/etc/etcd/pki';
/** Where a member's volume is mounted, and etcd's --data-dir. */
export const ETCD_DATA_DIR = '/var/lib/etcd';

/** `--initial-cluster`: every member's name and peer URL. */
export function initialCluster(names: ClusterNames, replicas: number): string {
  return Array.from({ length: replicas }, (_, i) => `${names.etcd}-${i}=${memberPeerURL(names, i)}`).join(
    ',',
  );
}

/** `--initial-cluster-token`: unique per Cluster, so members of two Clusters never take each other for peers. */
export function initialClusterToken(names: ClusterNames): string {
  return `${names.namespace}-${names.cluster}`;
}

/** A member's peer URL, as it advertises it. */
export function memberPeerURL(names: ClusterNames, ordinal: number): string {
  return `https://${names.etcdMemberHost(ordinal)}:${ETCD_PEER_PORT}`;
}

/** Client URLs of every member: the apiserver's --etcd-servers. */
export function etcdClientURLs(names: ClusterNames, replicas: number): string[] {
  return Array.from({ length: replicas }, (_, i) => `https://${names.etcdMemberHost(i)}:${ETCD_CLIENT_PORT}`);
}

/**
 * The etcd command line; $(POD_NAME) is expanded by the kubelet from the pod's env. It is the same
 * for every member and every size: how a member without data joins comes from the join Secret.
 */
export function etcdArgs(cluster: ResolvedCluster, names: ClusterNames): string[] {
  const self = `$(POD_NAME).${names.etcd}.${names.namespace}.svc`;
  return renderFlags([
    ['name', '$(POD_NAME)'],
    ['data-dir', ETCD_DATA_DIR],
    ['listen-client-urls', `https://0.0.0.0:${ETCD_CLIENT_PORT}`],
    ['advertise-client-urls', `https://${self}:${ETCD_CLIENT_PORT}`],
    ['listen-peer-urls', `https://0.0.0.0:${ETCD_PEER_PORT}`],
    ['initial-advertise-peer-urls', `https://${self}:${ETCD_PEER_PORT}`],
    ['initial-cluster-token', initialClusterToken(names)],
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

/** The volume claim of each member: the StatefulSet's template, and what a restore makes before it. */
export function etcdClaimSpec(cluster: ResolvedCluster): V1PersistentVolumeClaimSpec {
  return {
    accessModes: ['ReadWriteOnce'],
    resources: { requests: { storage: cluster.etcd.storage.size } },
    ...(cluster.etcd.storage.storageClassName
      ? { storageClassName: cluster.etcd.storage.storageClassName }
      : {}),
  };
}

/**
 * Volumes outlive the StatefulSet: deleting it by hand (or losing it) keeps every member's data,
 * and the Cluster's teardown deletes the volumes itself. Scaling down keeps them for a scale up.
 */
const CLAIM_RETENTION = { whenDeleted: 'Retain', whenScaled: 'Retain' } as const;

/**
 * Why a Secret and not the args: the StatefulSet's pod template is one for every member, and a
 * template that changed with the membership would restart every member on each scale. etcd reads
 * --initial-cluster and --initial-cluster-state only when it starts without data, so they come
 * from env that names this Secret: read when a container starts, changing it restarts nothing.
 * The operator writes it before the StatefulSet grows (membership.ts): with every wanted member
 * while bootstrapping, with the members etcd lists while a learner it added has yet to start,
 * and with no initial cluster otherwise, so a member that lost its data finds no peers and stops
 * instead of joining under its old id; it is then removed and added again.
 */
function joinSecret(ctx: RenderContext, join: JoinConfig): V1Secret {
  const data: Record<string, string> = { [JOIN_STATE_KEY]: join.state };
  if (join.initialCluster) data[JOIN_INITIAL_CLUSTER_KEY] = join.initialCluster;
  const secret: V1Secret = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: ownedMetadata(ctx, ctx.names.secrets.etcdJoin, 'etcd'),
    type: 'Opaque',
    data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
  };
  return withTemplateHash(secret, contentHash(data));
}

export const JOIN_STATE_KEY = 'initial-cluster-state';
export const JOIN_INITIAL_CLUSTER_KEY = 'initial-cluster';

/** Before etcd first had quorum (nothing to read its members from): every wanted member, bootstrapping together. */
export function defaultEtcdMembership(ctx: RenderContext): EtcdMembership {
  const { cluster, names } = ctx;
  return {
    replicas: cluster.etcd.replicas,
    join: { state: 'new', initialCluster: initialCluster(names, cluster.etcd.replicas) },
  };
}

function render(ctx: RenderContext): KubernetesObject[] | undefined {
  const { cluster, names, pki } = ctx;
  if (cluster.etcd.external) return [];
  const version = cluster.etcd.version;
  if (!pki || !version) return undefined;
  const membership = ctx.etcdMembership ?? defaultEtcdMembership(ctx);
  const s = names.secrets;
  const mounted = [s.etcdCA, s.etcdServer, s.etcdPeer];
  // Without replicas: a scale changes the StatefulSet, never its pods.
  const { replicas: _replicas, ...podShaping } = cluster.etcd;
  const hash = contentHash({
    TEMPLATE_VERSION,
    etcd: podShaping,
    secrets: secretsHash(pki, mounted),
    ...imagePinOf(ctx, etcdImage(version)),
  });
  const labels = clusterLabels(names.cluster, 'etcd');
  const statefulSet: V1StatefulSet = {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: ownedMetadata(ctx, names.etcd, 'etcd'),
    spec: {
      serviceName: names.etcd,
      replicas: membership.replicas,
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
          securityContext: { ...CONTROL_PLANE_POD_SECURITY },
          affinity: spreadOverNodes(names.cluster, 'etcd'),
          containers: [
            {
              name: 'etcd',
              image: pinnedImage(etcdImage(version), ctx.imageDigests),
              command: ['etcd'],
              args: etcdArgs(cluster, names),
              env: [
                { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
                // Required: without the Secret, etcd would bootstrap a cluster of its own.
                {
                  name: 'ETCD_INITIAL_CLUSTER_STATE',
                  valueFrom: { secretKeyRef: { name: s.etcdJoin, key: JOIN_STATE_KEY } },
                },
                {
                  name: 'ETCD_INITIAL_CLUSTER',
                  valueFrom: {
                    secretKeyRef: { name: s.etcdJoin, key: JOIN_INITIAL_CLUSTER_KEY, optional: true },
                  },
                },
              ],
              ports: [
                { name: 'client', containerPort: ETCD_CLIENT_PORT },
                { name: 'peer', containerPort: ETCD_PEER_PORT },
                { name: 'metrics', containerPort: ETCD_METRICS_PORT },
              ],
              startupProbe: httpProbe('startup', '/readyz', 'metrics', 'HTTP'),
              livenessProbe: httpProbe('liveness', '/livez', 'metrics', 'HTTP'),
              readinessProbe: httpProbe('readiness', '/readyz', 'metrics', 'HTTP'),
              volumeMounts: [
                { name: 'data', mountPath: ETCD_DATA_DIR },
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
      volumeClaimTemplates: [{ metadata: { name: 'data', labels }, spec: etcdClaimSpec(cluster) }],
    },
  };
  // The retention policy and the size are in the object's hash, not the pods': changing them rewrites the StatefulSet without rolling a member.
  // The join Secret first: a member the StatefulSet adds reads it as it starts.
  return [
    joinSecret(ctx, membership.join),
    withTemplateHash(
      statefulSet,
      contentHash({ pods: hash, claimRetention: CLAIM_RETENTION, replicas: membership.replicas }),
    ),
  ];
}

export const etcd: ControlPlaneComponent = {
  ...CLUSTER_COMPONENTS.etcd,
  label: 'etcd',
  render,
  needsUpdate: templateHashDiffers,
  status: (observed, desired, ctx) => {
    if (ctx.cluster.etcd.external) return externalEtcdStatus(ctx.cluster.etcd.external.endpoints);
    const i = desired.findIndex((d) => d.kind === 'StatefulSet');
    return statefulSetStatus(
      observed[i] as V1StatefulSet | undefined,
      desired[i] as V1StatefulSet,
      ctx.cluster.etcd.version ?? '',
    );
  },
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
