// The kubectl-kok plugin run as a person runs it (its bin shim, this Node.js first on PATH) against the
// shared control plane, for tests that compare what it says with what the operator does.
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { sharedKubeconfigPath } from '@kok/testing/vitest';

const PLUGIN = join(import.meta.dirname, '..', '..', '..', 'kubectl-kok', 'bin', 'kubectl-kok');

export interface PluginRun {
  code: number;
  stdout: string;
  stderr: string;
}

export function kubectlKok(...args: string[]): Promise<PluginRun> {
  return new Promise((resolve) => {
    execFile(
      PLUGIN,
      [...args, '--kubeconfig', sharedKubeconfigPath()],
      {
        env: { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}` },
        timeout: 60_000,
      },
      (error, stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}
