/** kube-controller-manager: signs node certificates with the cluster CA and owns service-account tokens. */
import type { V1Deployment } from '@kubernetes/client-node';
import { CLUSTER_COMPONENTS, kubeImage, OPERATOR_OWNED_FLAGS } from '@kok/api';
import type { ResolvedCluster } from '../cluster-spec.ts';
import { renderFlags } from '../command-line.ts';
import type { ClusterNames } from '../names.ts';
import { KUBECONFIG_KEY, TRUST_BUNDLE_KEY } from '../pki/pki-material.ts';
import { contentHash, templateHashDiffers } from '../template-hash.ts';
import { deploymentStatus } from '../workload-status.ts';
import type { ControlPlaneComponent, RenderContext } from './component.ts';
import { secretsHash } from './component.ts';
import { controlPlaneDeployment } from './control-plane-deployment.ts';
import { imagePinOf } from './image-pin.ts';
import { httpProbe, PKI_DIR } from './pod-template.ts';

/**
 * Bump to rewrite every Cluster's controller-manager on purpose. 2: signs with signer.crt, trusts ca.crt (a bundle).
 * 3: extraArgs no longer override controllers; kubelet certificates last 30 days.
 */
const TEMPLATE_VERSION = 3;

const SECURE_PORT = 10257;
/** What the controller-manager signs CSRs for (kubelet certificates) unless a CSR asks for less. */
export const KUBELET_CERTIFICATE_DURATION = '720h';
const file = (name: string) => `${PKI_DIR}/${name}`;

export function controllerManagerArgs(cluster: ResolvedCluster, names: ClusterNames): string[] {
  const kubeconfig = file('controller-manager.conf');
  return renderFlags(
    [
      ['kubeconfig', kubeconfig],
      ['authentication-kubeconfig', kubeconfig],
      ['authorization-kubeconfig', kubeconfig],
      ['bind-address', '0.0.0.0'],
      ['secure-port', String(SECURE_PORT)],
      ['client-ca-file', file('ca.crt')],
      ['requestheader-client-ca-file', file('front-proxy-ca.crt')],
      ['cluster-name', names.cluster],
      // The signing CA alone; ca.crt is the trust bundle, which holds two CAs during a rotation.
      ['cluster-signing-cert-file', file('signer.crt')],
      ['cluster-signing-key-file', file('signer.key')],
      // Kubelet client and serving certificates cannot be revoked, only outlive: 30 days instead of the
      // default year. Kubelets with rotateCertificates renew them at 70-90% of that; extraArgs may change it.
      ['cluster-signing-duration', KUBELET_CERTIFICATE_DURATION],
      ['root-ca-file', file('ca.crt')],
      ['service-account-private-key-file', file('sa.key')],
      ['service-cluster-ip-range', cluster.network.serviceCIDR],
      ['cluster-cidr', cluster.network.podCIDR],
      ['allocate-node-cidrs', 'true'],
      ['controllers', '*,bootstrapsigner,tokencleaner'],
      ['leader-elect', 'true'],
      ['use-service-account-credentials', 'true'],
    ],
    cluster.controllerManager.extraArgs,
    cluster.controllerManager.featureGates,
    OPERATOR_OWNED_FLAGS.controllerManager,
  );
}

function render(ctx: RenderContext): V1Deployment[] | undefined {
  const { cluster, names, pki } = ctx;
  if (!pki) return undefined;
  const s = names.secrets;
  const files = [
    { secret: s.controllerManagerKubeconfig, key: KUBECONFIG_KEY, path: 'controller-manager.conf' },
    { secret: s.ca, key: TRUST_BUNDLE_KEY, path: 'ca.crt' },
    { secret: s.ca, key: 'tls.crt', path: 'signer.crt' },
    { secret: s.ca, key: 'tls.key', path: 'signer.key' },
    { secret: s.frontProxyCA, key: TRUST_BUNDLE_KEY, path: 'front-proxy-ca.crt' },
    { secret: s.serviceAccount, key: 'sa.key', path: 'sa.key' },
  ];
  const hash = contentHash({
    TEMPLATE_VERSION,
    version: cluster.version,
    settings: cluster.controllerManager,
    network: cluster.network,
    secrets: secretsHash(pki, [...new Set(files.map((f) => f.secret))]),
    ...imagePinOf(ctx, kubeImage('kube-controller-manager', cluster.version)),
  });
  return [
    controlPlaneDeployment(ctx, {
      name: names.controllerManager,
      component: CLUSTER_COMPONENTS.controllerManager.binary,
      version: cluster.version,
      settings: cluster.controllerManager,
      args: controllerManagerArgs(cluster, names),
      port: { name: 'https', containerPort: SECURE_PORT },
      probes: {
        startupProbe: httpProbe('startup', '/healthz', 'https', 'HTTPS'),
        livenessProbe: httpProbe('liveness', '/healthz', 'https', 'HTTPS'),
        readinessProbe: httpProbe('readiness', '/healthz', 'https', 'HTTPS'),
      },
      files,
      hash,
    }),
  ];
}

export const controllerManager: ControlPlaneComponent = {
  ...CLUSTER_COMPONENTS.controllerManager,
  label: 'kube-controller-manager',
  render,
  needsUpdate: templateHashDiffers,
  status: (observed, desired, ctx) =>
    deploymentStatus(
      observed[0] as V1Deployment | undefined,
      desired[0] as V1Deployment,
      ctx.cluster.version,
    ),
};
