import { readFile } from 'node:fs/promises';
import { KubeConfig } from '@kubernetes/client-node';
import { loadCertificateAuthority } from '@kok/pki';
import { inject } from 'vitest';
import { kubeconfigForUser } from './control-plane-pki.ts';
import './provided-context.ts';

// Test-only helpers: they read what global-setup.ts provided, so import them
// from '@kok/testing/vitest' inside vitest tests only.

/** The admin KubeConfig of the run's shared control plane (see global-setup.ts). */
export function sharedKubeConfig(): KubeConfig {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(sharedKubeconfigPath());
  return kubeConfig;
}

export function sharedKubeconfigPath(): string {
  const path = inject('kokKubeconfigPath');
  if (!path)
    throw new Error(
      "no shared control plane: add globalSetup: ['@kok/testing/global-setup'] to vitest.config.ts",
    );
  return path;
}

/**
 * A kubeconfig of the shared control plane for `user` in `groups`: a client
 * certificate from its CA, so RBAC decides what it may do, as for any user.
 */
export async function sharedKubeconfigForUser(user: string, groups: readonly string[] = []): Promise<string> {
  const files = inject('kokCaFiles');
  const server = sharedKubeConfig().getCurrentCluster()?.server;
  if (!files || !server)
    throw new Error(
      "no shared control plane: add globalSetup: ['@kok/testing/global-setup'] to vitest.config.ts",
    );
  const [certificatePem, privateKeyPem] = await Promise.all([
    readFile(files.certificate, 'utf8'),
    readFile(files.key, 'utf8'),
  ]);
  return kubeconfigForUser(
    await loadCertificateAuthority({ certificatePem, privateKeyPem }),
    server,
    user,
    groups,
  );
}

/** Directory of kubectl, helm and the control-plane binaries used by the shared control plane. */
export function sharedBinDir(): string {
  return inject('kokBinDir');
}

export { uniqueName } from './unique-name.ts';
