/**
 * kube-apiserver: a Deployment behind the apiserver Service, talking to etcd over mutual TLS: the
 * Cluster's own etcd with certificates of its etcd CA, or spec.etcd.external's endpoints with the
 * files of the user's Secret.
 */
import type { V1Deployment } from '@kubernetes/client-node';
import {
  APISERVER_SHUTDOWN_DELAY,
  CLUSTER_COMPONENTS,
  kubeImage,
  OPERATOR_OWNED_FLAGS,
  REQUIRED_ADMISSION_PLUGIN,
} from '@kok/api';
import type { ResolvedCluster } from '../cluster-spec.ts';
import { renderFlags } from '../command-line.ts';
import type { ClusterNames } from '../names.ts';
import { contentHash, templateHashDiffers } from '../template-hash.ts';
import { TRUST_BUNDLE_KEY } from '../pki/pki-material.ts';
import { deploymentStatus } from '../workload-status.ts';
import { apiServerTerminationGraceSeconds } from './apiserver-shutdown.ts';
import type { ControlPlaneComponent, RenderContext } from './component.ts';
import { secretsHash } from './component.ts';
import { controlPlaneDeployment } from './control-plane-deployment.ts';
import { imagePinOf } from './image-pin.ts';
import { etcdClientURLs } from './etcd.ts';
import type { SecretFile } from './pod-template.ts';
import { httpProbe, PKI_DIR } from './pod-template.ts';
import { APISERVER_PORT } from './services.ts';

/**
 * Bump to rewrite every Cluster's apiserver on purpose (it rolls every apiserver). 2: trusts CA bundles (ca.crt).
 * 3: extraArgs no longer override authorization-mode or anonymous-auth, nor drop NodeRestriction.
 * 4: --shutdown-delay-duration and a terminationGracePeriodSeconds that covers it, so a replaced apiserver
 * leaves its Service before it stops listening (this roll is the last one that may refuse a request).
 */
const TEMPLATE_VERSION = 4;

const pki = (file: string) => `${PKI_DIR}/${file}`;

/** Client URLs of the etcd the apiserver stores the biz-cluster in. */
export function etcdServers(cluster: ResolvedCluster, names: ClusterNames): string[] {
  return cluster.etcd.external?.endpoints ?? etcdClientURLs(names, cluster.etcd.replicas);
}

const ENABLE_ADMISSION_PLUGINS = 'enable-admission-plugins';
const DISABLE_ADMISSION_PLUGINS = 'disable-admission-plugins';

const pluginList = (value: string) =>
  value
    .split(',')
    .map((plugin) => plugin.trim())
    .filter((plugin) => plugin !== '');

/**
 * extraArgs with NodeRestriction kept on: added to an enable-admission-plugins
 * of the user's, removed from a disable-admission-plugins (the CRD refuses
 * that, but a Cluster stored before the rule may hold it).
 */
export function withRequiredAdmissionPlugin(
  extraArgs: Readonly<Record<string, string>>,
): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [name, value] of Object.entries(extraArgs)) {
    const flagName = name.replace(/^-+/, '');
    const plugins = pluginList(value);
    if (flagName === ENABLE_ADMISSION_PLUGINS && !plugins.includes(REQUIRED_ADMISSION_PLUGIN))
      kept[flagName] = [REQUIRED_ADMISSION_PLUGIN, ...plugins].join(',');
    else if (flagName === DISABLE_ADMISSION_PLUGINS)
      kept[flagName] = plugins.filter((plugin) => plugin !== REQUIRED_ADMISSION_PLUGIN).join(',');
    else kept[name] = value;
  }
  if (kept[DISABLE_ADMISSION_PLUGINS] === '') delete kept[DISABLE_ADMISSION_PLUGINS];
  return kept;
}

/** The kube-apiserver command line (kubeadm's flags), then featureGates and extraArgs. */
export function apiServerArgs(cluster: ResolvedCluster, names: ClusterNames): string[] {
  return renderFlags(
    [
      // What the `kubernetes` Endpoints name: the address nodes reach when the Cluster names one, else the
      // pod IP (expanded by the kubelet from the env).
      ['advertise-address', cluster.apiServer.advertiseAddress ?? '$(POD_IP)'],
      ['secure-port', String(APISERVER_PORT)],
      ['allow-privileged', 'true'],
      ['anonymous-auth', 'true'],
      ['authorization-mode', 'Node,RBAC'],
      ['enable-admission-plugins', REQUIRED_ADMISSION_PLUGIN],
      ['enable-bootstrap-token-auth', 'true'],
      ['client-ca-file', pki('ca.crt')],
      ['tls-cert-file', pki('apiserver.crt')],
      ['tls-private-key-file', pki('apiserver.key')],
      ['etcd-servers', etcdServers(cluster, names).join(',')],
      ['etcd-cafile', pki('etcd/ca.crt')],
      ['etcd-certfile', pki('apiserver-etcd-client.crt')],
      ['etcd-keyfile', pki('apiserver-etcd-client.key')],
      ['kubelet-client-certificate', pki('apiserver-kubelet-client.crt')],
      ['kubelet-client-key', pki('apiserver-kubelet-client.key')],
      ['kubelet-preferred-address-types', 'InternalIP,ExternalIP,Hostname'],
      ['proxy-client-cert-file', pki('front-proxy-client.crt')],
      ['proxy-client-key-file', pki('front-proxy-client.key')],
      ['requestheader-allowed-names', 'front-proxy-client'],
      ['requestheader-client-ca-file', pki('front-proxy-ca.crt')],
      ['requestheader-extra-headers-prefix', 'X-Remote-Extra-'],
      ['requestheader-group-headers', 'X-Remote-Group'],
      ['requestheader-username-headers', 'X-Remote-User'],
      ['service-account-issuer', `https://kubernetes.default.svc.${cluster.network.dnsDomain}`],
      ['service-account-key-file', pki('sa.pub')],
      ['service-account-signing-key-file', pki('sa.key')],
      ['service-cluster-ip-range', cluster.network.serviceCIDR],
      // Keep serving that long after SIGTERM, /readyz failing, so the Service's endpoints and kube-proxy drop
      // the pod before it stops listening (apiserver-shutdown.ts). extraArgs may set a longer one.
      ['shutdown-delay-duration', APISERVER_SHUTDOWN_DELAY],
    ],
    withRequiredAdmissionPlugin(cluster.apiServer.extraArgs),
    cluster.apiServer.featureGates,
    OPERATOR_OWNED_FLAGS.apiServer,
  );
}

/** The etcd CA and client certificate files: from the Cluster's PKI, or from the user's Secret of an external etcd. */
function etcdClientFiles(cluster: ResolvedCluster, names: ClusterNames): SecretFile[] {
  const external = cluster.etcd.external;
  const s = names.secrets;
  return external
    ? [
        { secret: external.tlsSecretName, key: 'ca.crt', path: 'etcd/ca.crt' },
        { secret: external.tlsSecretName, key: 'tls.crt', path: 'apiserver-etcd-client.crt' },
        { secret: external.tlsSecretName, key: 'tls.key', path: 'apiserver-etcd-client.key' },
      ]
    : [
        { secret: s.etcdCA, key: TRUST_BUNDLE_KEY, path: 'etcd/ca.crt' },
        { secret: s.apiServerEtcdClient, key: 'tls.crt', path: 'apiserver-etcd-client.crt' },
        { secret: s.apiServerEtcdClient, key: 'tls.key', path: 'apiserver-etcd-client.key' },
      ];
}

function render(ctx: RenderContext): V1Deployment[] | undefined {
  const { cluster, names, pki: material, externalEtcdSecret } = ctx;
  const external = cluster.etcd.external;
  if (!material || (external && !externalEtcdSecret)) return undefined;
  const s = names.secrets;
  const files = [
    // Trust bundles: old and new CA while a CA rotation is under way.
    { secret: s.ca, key: TRUST_BUNDLE_KEY, path: 'ca.crt' },
    { secret: s.apiServerServing, key: 'tls.crt', path: 'apiserver.crt' },
    { secret: s.apiServerServing, key: 'tls.key', path: 'apiserver.key' },
    ...etcdClientFiles(cluster, names),
    { secret: s.apiServerKubeletClient, key: 'tls.crt', path: 'apiserver-kubelet-client.crt' },
    { secret: s.apiServerKubeletClient, key: 'tls.key', path: 'apiserver-kubelet-client.key' },
    { secret: s.frontProxyCA, key: TRUST_BUNDLE_KEY, path: 'front-proxy-ca.crt' },
    { secret: s.frontProxyClient, key: 'tls.crt', path: 'front-proxy-client.crt' },
    { secret: s.frontProxyClient, key: 'tls.key', path: 'front-proxy-client.key' },
    { secret: s.serviceAccount, key: 'sa.key', path: 'sa.key' },
    { secret: s.serviceAccount, key: 'sa.pub', path: 'sa.pub' },
  ];
  const { service: _service, ...settings } = cluster.apiServer;
  const pkiSecrets = [...new Set(files.map((f) => f.secret))].filter(
    (name) => name !== external?.tlsSecretName,
  );
  const hash = contentHash({
    TEMPLATE_VERSION,
    version: cluster.version,
    settings,
    network: cluster.network,
    // The etcd it dials: a change of the user's Secret rolls the apiservers like a reissued certificate.
    ...(external
      ? {
          externalEtcd: {
            endpoints: external.endpoints,
            secret: contentHash(externalEtcdSecret?.data ?? {}),
          },
        }
      : { etcdReplicas: cluster.etcd.replicas }),
    secrets: secretsHash(material, pkiSecrets),
    ...imagePinOf(ctx, kubeImage('kube-apiserver', cluster.version)),
  });
  const args = apiServerArgs(cluster, names);
  return [
    controlPlaneDeployment(ctx, {
      name: names.apiServer,
      component: CLUSTER_COMPONENTS.apiServer.binary,
      version: cluster.version,
      settings: cluster.apiServer,
      args,
      terminationGracePeriodSeconds: apiServerTerminationGraceSeconds(args),
      env: [{ name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } }],
      port: { name: 'https', containerPort: APISERVER_PORT },
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

export const apiServer: ControlPlaneComponent = {
  ...CLUSTER_COMPONENTS.apiServer,
  label: 'kube-apiserver',
  render,
  needsUpdate: templateHashDiffers,
  status: (observed, desired, ctx) =>
    deploymentStatus(
      observed[0] as V1Deployment | undefined,
      desired[0] as V1Deployment,
      ctx.cluster.version,
    ),
};
