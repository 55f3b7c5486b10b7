/**
 * What a Cluster's PKI consists of (kubeadm's layout): three CAs, the
 * service-account key pair, serving and client certificates with their SANs,
 * and kubeconfigs. Pure: a table derived from the Cluster, its apiserver
 * Service and endpoint; pki-material.ts turns it into Secrets.
 */
import { isIP } from 'node:net';
import { isIpAddress, WILDCARD_DNS_NAME_PATTERN } from '@kok/api';
import type { CertificateUsage } from '@kok/pki';
import type { ResolvedCluster } from '../cluster-spec.ts';
import type { Endpoint } from '../endpoint.ts';
import type { ClusterNames } from '../names.ts';
import { firstServiceIP } from '../network.ts';

export type SignerName = 'ca' | 'frontProxyCA' | 'etcdCA';

/** The user kube-apiserver is to kubelets (logs, exec, port-forward): its kubelet client certificate's CN. */
export const APISERVER_KUBELET_CLIENT_USER = 'kube-apiserver-kubelet-client';

/**
 * The admin kubeconfig's user and group (kubeadm's kubeadm:cluster-admins
 * pattern): the group is cluster-admin through a ClusterRoleBinding in the
 * biz-cluster (biz-access.ts), so deleting that binding revokes every admin
 * kubeconfig at once, which a system:masters certificate never allows.
 */
export const ADMIN_USER = 'kok-admin';
export const CLUSTER_ADMINS_GROUP = 'kok:cluster-admins';

/** The node-operator's user: bound to exactly the ClusterRole of its chart (biz-access.ts). */
export const NODE_OPERATOR_USER = 'kok:node-operator';

/**
 * The break-glass identity (kubeadm's super-admin.conf): system:masters, which
 * RBAC cannot restrict. Never stored: the operator mints one in memory, valid
 * SUPER_ADMIN_VALIDITY_MS, for each install of RBAC into the biz-cluster,
 * because the bindings that empower the other identities are what it installs.
 */
export const SUPER_ADMIN_USER = 'kok-super-admin';
export const SUPER_ADMIN_GROUP = 'system:masters';
export const SUPER_ADMIN_VALIDITY_MS = 60 * 60 * 1000;

export interface CertificateAuthoritySpec {
  kind: 'ca';
  signer: SignerName;
  secretName: string;
  commonName: string;
}

export interface ServiceAccountKeySpec {
  kind: 'service-account';
  secretName: string;
}

export interface LeafCertificateSpec {
  kind: 'certificate';
  secretName: string;
  signer: SignerName;
  commonName: string;
  organizations: string[];
  usages: CertificateUsage[];
  dnsNames: string[];
  ipAddresses: string[];
}

export interface KubeconfigSpec {
  kind: 'kubeconfig';
  secretName: string;
  signer: 'ca';
  /** Name of the cluster entry (the Cluster's name). */
  clusterName: string;
  commonName: string;
  organizations: string[];
  /** URL of the apiserver the kubeconfig talks to. */
  server: string;
}

export type PkiSpec = CertificateAuthoritySpec | ServiceAccountKeySpec | LeafCertificateSpec | KubeconfigSpec;

export interface PkiInputs {
  cluster: ResolvedCluster;
  names: ClusterNames;
  endpoint: Endpoint;
  /** ClusterIP of the apiserver Service in the meta-cluster, once assigned. */
  apiServerClusterIP?: string;
}

const SAN_DNS_NAME = new RegExp(WILDCARD_DNS_NAME_PATTERN);

/**
 * Splits names and addresses, drops duplicates, keeps first-seen order. A
 * value that is neither is left out: the CRD refuses such certSANs, and one
 * stored before that rule must not end up in a certificate.
 */
function subjectAltNames(values: readonly string[]): { dnsNames: string[]; ipAddresses: string[] } {
  const unique = [...new Set(values.filter((v) => v && v !== 'None'))];
  return {
    dnsNames: unique.filter((v) => !isIP(v) && SAN_DNS_NAME.test(v)),
    ipAddresses: unique.filter((v) => isIpAddress(v)),
  };
}

/** SANs of the apiserver serving certificate: every name a client may dial. */
export function apiServerSANs(inputs: PkiInputs): { dnsNames: string[]; ipAddresses: string[] } {
  const { cluster, names, endpoint, apiServerClusterIP } = inputs;
  const service = names.apiServerService;
  return subjectAltNames([
    // Inside the biz-cluster: the `kubernetes` Service.
    'kubernetes',
    'kubernetes.default',
    'kubernetes.default.svc',
    `kubernetes.default.svc.${cluster.network.dnsDomain}`,
    // Inside the meta-cluster: the apiserver Service.
    service,
    `${service}.${names.namespace}`,
    `${service}.${names.namespace}.svc`,
    'localhost',
    endpoint.host,
    ...cluster.certSANs,
    ...(cluster.apiServer.advertiseAddress ? [cluster.apiServer.advertiseAddress] : []),
    '127.0.0.1',
    firstServiceIP(cluster.network.serviceCIDR),
    ...(apiServerClusterIP ? [apiServerClusterIP] : []),
  ]);
}

/** SANs of etcd's client (server) certificate: members through the headless Service, the client Service, loopback. */
export function etcdServerSANs(names: ClusterNames): { dnsNames: string[]; ipAddresses: string[] } {
  const ns = names.namespace;
  return subjectAltNames([
    `*.${names.etcd}.${ns}.svc`,
    names.etcdClientService,
    `${names.etcdClientService}.${ns}`,
    `${names.etcdClientService}.${ns}.svc`,
    'localhost',
    '127.0.0.1',
  ]);
}

/**
 * SANs of etcd's peer certificate. A wildcard over the headless Service covers
 * every member, so scaling etcd never needs a new certificate.
 */
export function etcdPeerSANs(names: ClusterNames): { dnsNames: string[]; ipAddresses: string[] } {
  return subjectAltNames([`*.${names.etcd}.${names.namespace}.svc`, 'localhost', '127.0.0.1']);
}

/**
 * The whole PKI of a Cluster, CAs first (leaves are signed by them). An
 * external etcd brings its own: no etcd CA and no certificate signed by one.
 */
export function pkiSpecs(inputs: PkiInputs): PkiSpec[] {
  const specs = allPkiSpecs(inputs);
  return inputs.cluster.etcd.external
    ? specs.filter((spec) => !('signer' in spec && spec.signer === 'etcdCA'))
    : specs;
}

function allPkiSpecs(inputs: PkiInputs): PkiSpec[] {
  const { names, endpoint } = inputs;
  const s = names.secrets;
  const internalServer = `https://${names.apiServerServiceHost}:${inputs.cluster.apiServer.service.port}`;
  const kubeconfig = (secretName: string, commonName: string, organizations: string[], server: string) =>
    ({
      kind: 'kubeconfig',
      secretName,
      signer: 'ca',
      clusterName: names.cluster,
      commonName,
      organizations,
      server,
    }) as const;
  return [
    { kind: 'ca', signer: 'ca', secretName: s.ca, commonName: `${names.cluster}-ca` },
    {
      kind: 'ca',
      signer: 'frontProxyCA',
      secretName: s.frontProxyCA,
      commonName: `${names.cluster}-front-proxy-ca`,
    },
    { kind: 'ca', signer: 'etcdCA', secretName: s.etcdCA, commonName: `${names.cluster}-etcd-ca` },
    { kind: 'service-account', secretName: s.serviceAccount },
    {
      kind: 'certificate',
      secretName: s.apiServerServing,
      signer: 'ca',
      commonName: 'kube-apiserver',
      organizations: [],
      usages: ['server'],
      ...apiServerSANs(inputs),
    },
    {
      kind: 'certificate',
      secretName: s.apiServerEtcdClient,
      signer: 'etcdCA',
      commonName: 'kube-apiserver-etcd-client',
      organizations: [],
      usages: ['client'],
      dnsNames: [],
      ipAddresses: [],
    },
    {
      kind: 'certificate',
      secretName: s.apiServerKubeletClient,
      signer: 'ca',
      commonName: APISERVER_KUBELET_CLIENT_USER,
      // No system:masters: the biz-cluster grants this user kubelet access alone (node API bundle).
      organizations: [],
      usages: ['client'],
      dnsNames: [],
      ipAddresses: [],
    },
    {
      kind: 'certificate',
      secretName: s.frontProxyClient,
      signer: 'frontProxyCA',
      commonName: 'front-proxy-client',
      organizations: [],
      usages: ['client'],
      dnsNames: [],
      ipAddresses: [],
    },
    {
      kind: 'certificate',
      secretName: s.etcdServer,
      signer: 'etcdCA',
      commonName: `${names.etcd}-server`,
      organizations: [],
      // etcd also dials itself as a client (health checks, gateway).
      usages: ['server', 'client'],
      ...etcdServerSANs(names),
    },
    {
      kind: 'certificate',
      secretName: s.etcdPeer,
      signer: 'etcdCA',
      commonName: `${names.etcd}-peer`,
      organizations: [],
      usages: ['server', 'client'],
      ...etcdPeerSANs(names),
    },
    // No system:masters in any stored credential: RBAC in the biz-cluster decides, and a binding can be deleted.
    kubeconfig(s.adminKubeconfig, ADMIN_USER, [CLUSTER_ADMINS_GROUP], endpoint.url),
    kubeconfig(s.controllerManagerKubeconfig, 'system:kube-controller-manager', [], internalServer),
    kubeconfig(s.schedulerKubeconfig, 'system:kube-scheduler', [], internalServer),
    kubeconfig(s.nodeOperatorKubeconfig, NODE_OPERATOR_USER, [], internalServer),
  ];
}
