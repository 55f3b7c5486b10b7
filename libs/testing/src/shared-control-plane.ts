import { KubeConfig } from '@kubernetes/client-node';
import { inject } from 'vitest';
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

/** Directory of kubectl, helm and the control-plane binaries used by the shared control plane. */
export function sharedBinDir(): string {
  return inject('kokBinDir');
}

export { uniqueName } from './unique-name.ts';
