/**
 * The binaries a real host runs (kubelet of two minors, containerd of two
 * versions, crictl, node-problem-detector) and those its add-on images carry
 * (kube-proxy at every kubelet version, CoreDNS), built from Go modules by
 * tools/build-host-binaries.sh into `<cache>/host-bin/<component>/<version>/`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repositoryRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const buildScript = join(repositoryRoot, 'tools/build-host-binaries.sh');

export interface HostVersions {
  /** Oldest first: a rollout moves from `kubelet[0]` to `kubelet[1]`. */
  readonly kubelet: readonly string[];
  readonly containerd: readonly string[];
  readonly crictl: string;
  readonly nodeProblemDetector: string;
  /** CoreDNS versions, oldest first (kube-proxy is built at every kubelet version). */
  readonly coreDns: readonly string[];
}

/** The versions pinned in tools/versions.env, each list sorted oldest first. */
export function hostVersions(): HostVersions {
  const text = readFileSync(join(repositoryRoot, 'tools/versions.env'), 'utf8');
  const value = (key: string) => {
    const match = new RegExp(`^${key}="?([^"\\n]+)"?`, 'm').exec(text);
    if (!match?.[1]) throw new Error(`tools/versions.env has no ${key}`);
    return match[1].trim();
  };
  const list = (key: string) => value(key).split(/\s+/).sort(compareVersions);
  return {
    kubelet: list('KUBELET_HOST_VERSIONS'),
    containerd: list('CONTAINERD_VERSIONS'),
    crictl: value('CRICTL_VERSION'),
    nodeProblemDetector: value('NPD_VERSION'),
    coreDns: list('COREDNS_VERSIONS'),
  };
}

function compareVersions(a: string, b: string): number {
  const parts = (v: string) => v.replace(/^v/, '').split('.').map(Number);
  const [x, y] = [parts(a), parts(b)];
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

export interface HostBinaries {
  readonly dir: string;
  /** `<dir>/<component>/<version>/<file>`, checked to exist. */
  path(component: string, version: string, file: string): string;
}

/** Builds what is missing (a no-op when cached) and returns where the host binaries are. */
export function ensureHostBinaries(): HostBinaries {
  const result = spawnSync('bash', [buildScript], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const dir = result.stdout?.trim().split('\n').pop();
  if (result.status !== 0 || !dir)
    throw new Error(`building the host binaries failed (exit ${result.status}); run: bash ${buildScript}`);
  return {
    dir,
    path: (component, version, file) => {
      const path = join(dir, component, version, file);
      if (!existsSync(path)) throw new Error(`${path} is missing: run bash ${buildScript}`);
      return path;
    },
  };
}
