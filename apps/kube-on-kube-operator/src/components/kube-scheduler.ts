/** kube-scheduler: places the biz-cluster's pods. */
import type { V1Deployment } from '@kubernetes/client-node';
import { CLUSTER_COMPONENTS, kubeImage, OPERATOR_OWNED_FLAGS } from '@kok/api';
import type { ResolvedCluster } from '../cluster-spec.ts';
import { renderFlags } from '../command-line.ts';
import { KUBECONFIG_KEY } from '../pki/pki-material.ts';
import { contentHash, templateHashDiffers } from '../template-hash.ts';
import { deploymentStatus } from '../workload-status.ts';
import type { ControlPlaneComponent, RenderContext } from './component.ts';
import { secretsHash } from './component.ts';
import { controlPlaneDeployment } from './control-plane-deployment.ts';
import { imagePinOf } from './image-pin.ts';
import { httpProbe, PKI_DIR } from './pod-template.ts';

/** Bump to rewrite every Cluster's scheduler on purpose. */
const TEMPLATE_VERSION = 1;

const SECURE_PORT = 10259;

export function schedulerArgs(cluster: ResolvedCluster): string[] {
  const kubeconfig = `${PKI_DIR}/scheduler.conf`;
  return renderFlags(
    [
      ['kubeconfig', kubeconfig],
      ['authentication-kubeconfig', kubeconfig],
      ['authorization-kubeconfig', kubeconfig],
      ['bind-address', '0.0.0.0'],
      ['secure-port', String(SECURE_PORT)],
      ['leader-elect', 'true'],
    ],
    cluster.scheduler.extraArgs,
    cluster.scheduler.featureGates,
    OPERATOR_OWNED_FLAGS.scheduler,
  );
}

function render(ctx: RenderContext): V1Deployment[] | undefined {
  const { cluster, names, pki } = ctx;
  if (!pki) return undefined;
  const files = [{ secret: names.secrets.schedulerKubeconfig, key: KUBECONFIG_KEY, path: 'scheduler.conf' }];
  const hash = contentHash({
    TEMPLATE_VERSION,
    version: cluster.version,
    settings: cluster.scheduler,
    secrets: secretsHash(pki, [names.secrets.schedulerKubeconfig]),
    ...imagePinOf(ctx, kubeImage('kube-scheduler', cluster.version)),
  });
  return [
    controlPlaneDeployment(ctx, {
      name: names.scheduler,
      component: CLUSTER_COMPONENTS.scheduler.binary,
      version: cluster.version,
      settings: cluster.scheduler,
      args: schedulerArgs(cluster),
      port: { name: 'https', containerPort: SECURE_PORT },
      probes: {
        startupProbe: httpProbe('startup', '/livez', 'https', 'HTTPS'),
        livenessProbe: httpProbe('liveness', '/livez', 'https', 'HTTPS'),
        readinessProbe: httpProbe('readiness', '/readyz', 'https', 'HTTPS'),
      },
      files,
      hash,
    }),
  ];
}

export const scheduler: ControlPlaneComponent = {
  ...CLUSTER_COMPONENTS.scheduler,
  label: 'kube-scheduler',
  render,
  needsUpdate: templateHashDiffers,
  status: (observed, desired, ctx) =>
    deploymentStatus(
      observed[0] as V1Deployment | undefined,
      desired[0] as V1Deployment,
      ctx.cluster.version,
    ),
};
