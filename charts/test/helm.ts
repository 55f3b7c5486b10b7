import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { sharedBinDir, sharedKubeconfigPath } from '@kok/testing/vitest';

const run = promisify(execFile);
export const chartsDir = new URL('..', import.meta.url).pathname;
export const repositoryRoot = join(chartsDir, '..');
// helm keeps caches and config per user: give it a private home so tests touch nothing outside.
const helmHome = mkdtempSync(join(tmpdir(), 'kok-helm-'));
const helmEnv = {
  ...process.env,
  HELM_CACHE_HOME: join(helmHome, 'cache'),
  HELM_CONFIG_HOME: join(helmHome, 'config'),
  HELM_DATA_HOME: join(helmHome, 'data'),
};

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

async function command(binary: string, args: string[]): Promise<CommandResult> {
  try {
    const { stdout, stderr } = await run(join(sharedBinDir(), binary), args, {
      env: helmEnv,
      maxBuffer: 16 << 20,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? 1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

/** Runs the real helm against the shared control plane. */
export const helm = (...args: string[]): Promise<CommandResult> =>
  command('helm', [...args, '--kubeconfig', sharedKubeconfigPath()]);

/** Runs the real kubectl against the shared control plane. */
export const kubectl = (...args: string[]): Promise<CommandResult> =>
  command('kubectl', ['--kubeconfig', sharedKubeconfigPath(), ...args]);
