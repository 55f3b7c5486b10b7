import { generateKeyPair, type KeyAlgorithm } from './key-pair.ts';

/**
 * The key pair kube-apiserver signs service-account tokens with
 * (`--service-account-signing-key-file`) and verifies them with
 * (`--service-account-key-file`, also kube-controller-manager's
 * `--service-account-private-key-file`).
 */
export interface ServiceAccountKeyPair {
  readonly privateKeyPem: string;
  readonly publicKeyPem: string;
}

export async function createServiceAccountKeyPair(
  algorithm: KeyAlgorithm = 'ecdsa-p256',
): Promise<ServiceAccountKeyPair> {
  const { privateKeyPem, publicKeyPem } = await generateKeyPair(algorithm);
  return { privateKeyPem, publicKeyPem };
}
