import {
  createCertificateAuthority,
  createServiceAccountKeyPair,
  issueCertificate,
  renderKubeconfig,
  type CertificateAuthority,
  type IssuedCertificate,
  type ServiceAccountKeyPair,
} from '@kok/pki';

/** The identities of a local control plane; every client authenticates with a certificate from one CA. */
export interface ControlPlanePki {
  readonly ca: CertificateAuthority;
  readonly apiServerServing: IssuedCertificate;
  readonly serviceAccount: ServiceAccountKeyPair;
  readonly admin: IssuedCertificate;
  readonly controllerManager: IssuedCertificate;
  readonly scheduler: IssuedCertificate;
  readonly kwok: IssuedCertificate;
  /** The apiserver's client certificate towards kubelets (logs, exec), bound to system:kubelet-api-admin. */
  readonly kubeletClient: IssuedCertificate;
}

export const serviceClusterIpRange = '10.0.0.0/24';
/** The user the apiserver is to kubelets. */
export const apiServerKubeletClientName = 'kube-apiserver-kubelet-client';
const kubernetesServiceIp = '10.0.0.1';

/** `address`: an extra address the apiserver is reached at (real hosts use the rig's gateway). */
export async function createControlPlanePki(address?: string): Promise<ControlPlanePki> {
  const ca = await createCertificateAuthority({ commonName: 'kok-local-ca' });
  const client = (commonName: string, organizations: string[] = []) =>
    issueCertificate(ca, { commonName, organizations, usages: ['client'] });
  const [apiServerServing, serviceAccount, admin, controllerManager, scheduler, kwok, kubeletClient] =
    await Promise.all([
      issueCertificate(ca, {
        commonName: 'kube-apiserver',
        usages: ['server'],
        dnsNames: [
          'localhost',
          'kubernetes',
          'kubernetes.default',
          'kubernetes.default.svc',
          'kubernetes.default.svc.cluster.local',
        ],
        ipAddresses: ['127.0.0.1', kubernetesServiceIp, ...(address ? [address] : [])],
      }),
      createServiceAccountKeyPair(),
      client('kok-admin', ['system:masters']),
      // The bootstrap RBAC policy already binds these two user names.
      client('system:kube-controller-manager'),
      client('system:kube-scheduler'),
      // kwok writes Node and Pod status and deletes pods of every namespace.
      client('kwok-controller', ['system:masters']),
      client(apiServerKubeletClientName),
    ]);
  return { ca, apiServerServing, serviceAccount, admin, controllerManager, scheduler, kwok, kubeletClient };
}

export function kubeconfigFor(
  pki: ControlPlanePki,
  server: string,
  userName: string,
  identity: IssuedCertificate,
): string {
  return renderKubeconfig({
    clusterName: 'kok-local',
    server,
    certificateAuthorityPem: pki.ca.certificatePem,
    userName,
    credentials: { clientCertificatePem: identity.certificatePem, clientKeyPem: identity.privateKeyPem },
  });
}

/** A kubeconfig for `user` in `groups`: a client certificate signed by `ca`, so RBAC decides what it may do. */
export async function kubeconfigForUser(
  ca: CertificateAuthority,
  server: string,
  user: string,
  groups: readonly string[],
): Promise<string> {
  const identity = await issueCertificate(ca, {
    commonName: user,
    organizations: [...groups],
    usages: ['client'],
  });
  return renderKubeconfig({
    clusterName: 'kok-local',
    server,
    certificateAuthorityPem: ca.certificatePem,
    userName: user,
    credentials: { clientCertificatePem: identity.certificatePem, clientKeyPem: identity.privateKeyPem },
  });
}
