import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The binaries tools/build-binaries.sh provides, by file name: the control plane's, and etcdutl for restore pods. */
export const controlPlaneBinaries = [
  'etcd',
  'etcdutl',
  'kube-apiserver',
  'kube-controller-manager',
  'kube-scheduler',
  'kubectl',
  'kwok',
  'helm',
] as const;
export type ControlPlaneBinary = (typeof controlPlaneBinaries)[number];

const repositoryRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const buildScript = join(repositoryRoot, 'tools/build-binaries.sh');

/** The versions pinned in tools/versions.env (the single source of truth). */
export function pinnedVersions(): Record<'kubernetes' | 'etcd' | 'kwok' | 'helm', string> {
  const text = readFileSync(join(repositoryRoot, 'tools/versions.env'), 'utf8');
  const value = (key: string) => {
    const match = new RegExp(`^${key}=(\\S+)`, 'm').exec(text);
    if (!match?.[1]) throw new Error(`tools/versions.env has no ${key}`);
    return match[1];
  };
  return {
    kubernetes: value('KUBERNETES_VERSION'),
    etcd: value('ETCD_VERSION'),
    kwok: value('KWOK_VERSION'),
    helm: value('HELM_VERSION'),
  };
}

/**
 * The directory holding the control-plane binaries: `KOK_ASSETS` when set
 * (binaries the user already has), else the version-keyed build cache, built
 * first if anything is missing (a no-op when cached).
 */
export function ensureBinaries(): string {
  const result = spawnSync('bash', [buildScript], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const dir = result.stdout?.trim().split('\n').pop();
  if (result.status !== 0 || !dir) {
    throw new Error(
      `building the control-plane binaries failed (exit ${result.status}); run: bash ${buildScript}`,
    );
  }
  for (const binary of controlPlaneBinaries) {
    if (!existsSync(join(dir, binary))) throw new Error(`${dir} has no ${binary}`);
  }
  return dir;
}

/** The version-keyed cache directory, whether or not it is populated yet. */
export function binaryCacheDir(): string {
  if (process.env.KOK_ASSETS) return process.env.KOK_ASSETS;
  const cacheRoot =
    process.env.KOK_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'kok');
  return join(cacheRoot, 'bin', pinnedVersions().kubernetes);
}
