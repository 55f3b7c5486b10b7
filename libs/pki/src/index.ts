export type { KeyAlgorithm, KeyPair } from './key-pair.ts';
export { generateKeyPair, importKeyPair } from './key-pair.ts';
export type { CertificateAuthority, CertificateAuthorityOptions } from './certificate-authority.ts';
export { createCertificateAuthority, loadCertificateAuthority } from './certificate-authority.ts';
export type { CertificateRequest, CertificateUsage, IssuedCertificate } from './certificate.ts';
export { issueCertificate } from './certificate.ts';
export type { SigningRequest } from './certificate-signing-request.ts';
export { createClientSigningRequest } from './certificate-signing-request.ts';
export type { ServiceAccountKeyPair } from './service-account-keys.ts';
export { createServiceAccountKeyPair } from './service-account-keys.ts';
export type { CertificateInfo } from './certificate-info.ts';
export { describeCertificate, isSignedBy } from './certificate-info.ts';
export type { KubeconfigCredentials, KubeconfigOptions } from './kubeconfig.ts';
export { renderKubeconfig } from './kubeconfig.ts';
export type { BootstrapToken, KubernetesManifest } from './node-bootstrap.ts';
export { createBootstrapToken, nodeBootstrapRbac } from './node-bootstrap.ts';
export type { BootstrapFile, MachineBootstrap, MachineBootstrapInputs } from './machine-bootstrap.ts';
export {
  AGENT_KUBECONFIG_PATH,
  BOOTSTRAP_KUBECONFIG_PATH,
  CLUSTER_CA_PATH,
  DEFAULT_TOKEN_TTL_SECONDS,
  machineBootstrap,
} from './machine-bootstrap.ts';
