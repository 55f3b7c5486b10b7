/**
 * The operator's own way into a biz-cluster (kubeadm's super-admin.conf): a
 * system:masters client certificate minted in memory from the cluster CA for
 * each install of the node API bundle (and each read of the biz-cluster's
 * Nodes before a minor upgrade), valid SUPER_ADMIN_VALIDITY_MS. The
 * bundle holds the bindings every stored credential depends on, so installing
 * it needs an identity that no binding grants. It is never written anywhere:
 * whoever could use it already holds the CA key it is minted from.
 */
import type { V1Secret } from '@kubernetes/client-node';
import { issueCertificate, loadCertificateAuthority, renderKubeconfig } from '@kok/pki';
import { SUPER_ADMIN_GROUP, SUPER_ADMIN_USER, SUPER_ADMIN_VALIDITY_MS } from '../pki/certificates.ts';
import type { Endpoint } from '../endpoint.ts';
import type { ClusterNames } from '../names.ts';
import type { PkiMaterial } from '../pki/pki-material.ts';
import { TRUST_BUNDLE_KEY } from '../pki/pki-material.ts';

const DAY_MS = 24 * 60 * 60 * 1000;

const decoded = (secret: V1Secret | undefined, key: string) => {
  const value = secret?.data?.[key];
  return value === undefined ? undefined : Buffer.from(value, 'base64').toString();
};

/** A kubeconfig for the biz apiserver at `endpoint` as SUPER_ADMIN_USER, signed by the cluster CA in `pki`. */
export async function superAdminKubeconfig(
  pki: PkiMaterial,
  names: ClusterNames,
  endpoint: Endpoint,
  now: Date,
): Promise<string> {
  const caSecret = pki.secrets.find((s) => s.metadata?.name === names.secrets.ca);
  return superAdminKubeconfigFromCa(caSecret, names, endpoint, now);
}

/** The same, signed by the CA of Secret `caSecret` as read (before this pass's PKI material is made). */
export async function superAdminKubeconfigFromCa(
  caSecret: V1Secret | undefined,
  names: ClusterNames,
  endpoint: Endpoint,
  now: Date,
): Promise<string> {
  const certificatePem = decoded(caSecret, 'tls.crt');
  const privateKeyPem = decoded(caSecret, 'tls.key');
  if (!certificatePem || !privateKeyPem)
    throw new Error(`Secret ${names.secrets.ca} holds no CA to sign the operator's biz-cluster credential`);
  const ca = await loadCertificateAuthority({ certificatePem, privateKeyPem });
  const issued = await issueCertificate(ca, {
    commonName: SUPER_ADMIN_USER,
    organizations: [SUPER_ADMIN_GROUP],
    usages: ['client'],
    validityDays: SUPER_ADMIN_VALIDITY_MS / DAY_MS,
    now,
  });
  return renderKubeconfig({
    clusterName: names.cluster,
    server: endpoint.url,
    // The trust bundle: during a CA rotation the apiserver may serve with a leaf of either CA.
    certificateAuthorityPem: decoded(caSecret, TRUST_BUNDLE_KEY) ?? certificatePem,
    userName: SUPER_ADMIN_USER,
    credentials: { clientCertificatePem: issued.certificatePem, clientKeyPem: issued.privateKeyPem },
  });
}
