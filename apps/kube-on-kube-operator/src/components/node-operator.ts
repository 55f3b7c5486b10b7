/**
 * The node-operator of one biz-cluster: a Deployment in the meta-cluster, next
 * to the control plane, that talks only to the biz apiserver (through the
 * node-operator kubeconfig of the PKI). Written once the nodes.kok.dev API is
 * installed in the biz-cluster (node-tier.ts); it never holds the control plane.
 */
import type { V1Deployment } from '@kubernetes/client-node';
import { CLUSTER_COMPONENTS } from '@kok/api';
import type { ResolvedCluster } from '../cluster-spec.ts';
import type { ClusterNames } from '../names.ts';
import { clusterLabels, selectorLabels } from '../names.ts';
import { KOK_IMAGE_REGISTRY } from '../operator-version.ts';
import { KUBECONFIG_KEY } from '../pki/pki-material.ts';
import {
  contentHash,
  TEMPLATE_HASH_ANNOTATION,
  templateHashDiffers,
  withTemplateHash,
} from '../template-hash.ts';
import { deploymentStatus } from '../workload-status.ts';
import type { ControlPlaneComponent, RenderContext } from './component.ts';
import { ownedMetadata, secretsHash } from './component.ts';
import { KUBECONFIG_DIR, secretFiles, spreadOverNodes } from './pod-template.ts';

/** Bump to rewrite every Cluster's node-operator on purpose (it restarts every node-operator). */
const TEMPLATE_VERSION = 1;

/** Namespace in the biz-cluster of the node-operator's Lease and revision history. */
export const NODE_OPERATOR_NAMESPACE = 'kok-system';

const METRICS_PORT = 8080;

/** The user and group of the kok images (distroless nonroot). */
const NONROOT = 65532;

/**
 * One replica: leader election keeps a second one from acting during a
 * rolling update (maxSurge 1), and a 100-cluster meta-cluster does not pay
 * for an idle standby per cluster.
 */
const REPLICAS = 1;

/** The chart's defaults for a node-operator of a 10,000-node biz-cluster. */
const RESOURCES = { requests: { cpu: '200m', memory: '256Mi' }, limits: { memory: '1Gi' } };

export function nodeOperatorImage(version: string): string {
  return `${KOK_IMAGE_REGISTRY}/node-operator:${version}`;
}

/** The node-operator's command line (apps/node-operator/src/command-line.ts). */
export function nodeOperatorArgs(): string[] {
  return [
    `--kubeconfig=${KUBECONFIG_DIR}/${KUBECONFIG_KEY}`,
    '--leader-elect',
    `--namespace=${NODE_OPERATOR_NAMESPACE}`,
    // The wildcard address, spelled out: runtimes that give each pod its own address rewrite it.
    `--metrics-bind-address=0.0.0.0:${METRICS_PORT}`,
  ];
}

function deployment(
  ctx: RenderContext,
  cluster: ResolvedCluster,
  names: ClusterNames,
  hash: string,
): V1Deployment {
  const component = 'node-operator';
  return withTemplateHash(
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: ownedMetadata(ctx, names.nodeOperator, component),
      spec: {
        replicas: REPLICAS,
        selector: { matchLabels: selectorLabels(names.cluster, component) },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
        template: {
          metadata: {
            labels: clusterLabels(names.cluster, component),
            annotations: { [TEMPLATE_HASH_ANNOTATION]: hash },
          },
          spec: {
            // It works on the biz-cluster only: no token for the meta-cluster's API.
            automountServiceAccountToken: false,
            enableServiceLinks: false,
            affinity: spreadOverNodes(names.cluster, component),
            securityContext: {
              runAsNonRoot: true,
              runAsUser: NONROOT,
              runAsGroup: NONROOT,
              // The kubeconfig is mode 0440 for this group.
              fsGroup: NONROOT,
              seccompProfile: { type: 'RuntimeDefault' },
            },
            containers: [
              {
                name: component,
                image: nodeOperatorImage(cluster.nodeOperator.version),
                args: nodeOperatorArgs(),
                ports: [{ name: 'metrics', containerPort: METRICS_PORT, protocol: 'TCP' }],
                livenessProbe: {
                  httpGet: { path: '/healthz', port: 'metrics', scheme: 'HTTP' },
                  periodSeconds: 10,
                },
                readinessProbe: {
                  httpGet: { path: '/readyz', port: 'metrics', scheme: 'HTTP' },
                  periodSeconds: 5,
                },
                resources: RESOURCES,
                securityContext: {
                  allowPrivilegeEscalation: false,
                  readOnlyRootFilesystem: true,
                  runAsNonRoot: true,
                  capabilities: { drop: ['ALL'] },
                  seccompProfile: { type: 'RuntimeDefault' },
                },
                volumeMounts: [{ name: 'kubeconfig', mountPath: KUBECONFIG_DIR, readOnly: true }],
              },
            ],
            volumes: [
              {
                name: 'kubeconfig',
                projected: {
                  ...secretFiles([
                    {
                      secret: names.secrets.nodeOperatorKubeconfig,
                      key: KUBECONFIG_KEY,
                      path: KUBECONFIG_KEY,
                    },
                  ]),
                  defaultMode: 0o440,
                },
              },
            ],
          },
        },
      },
    },
    hash,
  );
}

/** Nothing while disabled (node-tier.ts deletes what is left) or before the PKI exists. */
function render(ctx: RenderContext): V1Deployment[] | undefined {
  const { cluster, names, pki } = ctx;
  if (!cluster.nodeOperator.enabled) return [];
  if (!pki) return undefined;
  const hash = contentHash({
    TEMPLATE_VERSION,
    version: cluster.nodeOperator.version,
    secrets: secretsHash(pki, [names.secrets.nodeOperatorKubeconfig]),
  });
  return [deployment(ctx, cluster, names, hash)];
}

export const nodeOperator: ControlPlaneComponent = {
  ...CLUSTER_COMPONENTS.nodeOperator,
  label: 'node-operator',
  render,
  needsUpdate: templateHashDiffers,
  status: (observed, desired, ctx) =>
    deploymentStatus(
      observed[0] as V1Deployment | undefined,
      desired[0] as V1Deployment,
      ctx.cluster.nodeOperator.version,
    ),
};
