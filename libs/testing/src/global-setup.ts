import type { TestProject } from 'vitest/node';
import { startControlPlane } from './control-plane.ts';
import type { ControlPlaneOptions } from './control-plane.ts';

import './provided-context.ts';

/**
 * Vitest global setup: one control plane (with controller-manager, scheduler,
 * kwok and 3 Ready nodes) shared by every test file of the run. Tests isolate
 * themselves by namespace or unique names.
 */
export default function setup(project: TestProject): Promise<() => Promise<void>> {
  return startSharedControlPlane(project);
}

export async function startSharedControlPlane(
  project: TestProject,
  options: Pick<ControlPlaneOptions, 'joinable'> = {},
): Promise<() => Promise<void>> {
  const began = performance.now();
  const controlPlane = await startControlPlane({
    controllerManager: true,
    scheduler: true,
    kwok: true,
    nodes: 3,
    ...options,
  });
  console.log(
    `[kok] shared control plane up in ${((performance.now() - began) / 1000).toFixed(1)}s at ${controlPlane.server}`,
  );
  project.provide('kokKubeconfigPath', controlPlane.kubeconfigPath);
  project.provide('kokBinDir', controlPlane.binDir);
  project.provide('kokCaFiles', controlPlane.caFiles);
  return () => controlPlane.stop();
}
