/**
 * The add-on images every cluster runs (CoreDNS, kube-proxy), packed by our
 * own packer from the host-binaries cache under the names the operator
 * renders (`registry.k8s.io/...`): real hosts import them, nothing is pulled.
 *
 * kube-proxy execs the iptables userland. Debian's is dynamically linked, so
 * the image carries the binary, its shared-library closure (as `ldd` lists
 * it) and the xtables extensions, all from this machine and on the same
 * backend (nft or legacy) as the machine's own `iptables`: the pods' bridge
 * plugin and the rig's routes program the same host namespaces with that one.
 */
import { execFileSync } from 'node:child_process';
import { lstatSync, readdirSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { coreDnsImage, kubeProxyImage } from '@kok/api';
import { packOciImage, type LayerEntry, type OciImage } from './oci-image.ts';
import { hostArchitecture } from './test-images.ts';

/** The user CoreDNS runs as upstream (distroless "nonroot"); its pod needs NET_BIND_SERVICE for port 53. */
export const COREDNS_USER = '65532';
export const KUBE_PROXY_PATH = '/usr/local/bin/kube-proxy';
/** The commands kube-proxy (iptables mode) execs, linked in /usr/sbin like Debian's. */
export const IPTABLES_COMMANDS = [
  'iptables',
  'iptables-save',
  'iptables-restore',
  'ip6tables',
  'ip6tables-save',
  'ip6tables-restore',
] as const;
const XTABLES_MULTI = {
  nft: '/usr/sbin/xtables-nft-multi',
  legacy: '/usr/sbin/xtables-legacy-multi',
} as const;
export type IptablesBackend = keyof typeof XTABLES_MULTI;

/** `registry.k8s.io/coredns/coredns:<version>`: the static binary as `/coredns`, its entrypoint, as upstream's. */
export function packCoreDnsImage(version: string, binary: string): OciImage {
  return packOciImage({
    ...nameAndTag(coreDnsImage(version)),
    layers: [
      [
        { type: 'file', path: '/coredns', fromFile: binary, mode: 0o755 },
        { type: 'directory', path: '/tmp', mode: 0o1777 },
      ],
    ],
    config: {
      entrypoint: ['/coredns'],
      user: `${COREDNS_USER}:${COREDNS_USER}`,
      exposedPorts: ['53/tcp', '53/udp'],
    },
    architecture: hostArchitecture(),
  });
}

export interface KubeProxyImageOptions {
  readonly version: string;
  /** The kube-proxy binary of that version. */
  readonly binary: string;
  /** More tags for the same image (e.g. a next patch version run with this build). */
  readonly extraVersions?: readonly string[];
  /** Default: the machine's own (see {@link machineIptablesBackend}). */
  readonly backend?: IptablesBackend;
}

/** `registry.k8s.io/kube-proxy:<version>`: kube-proxy and the machine's iptables userland. */
export function packKubeProxyImage(options: KubeProxyImageOptions): OciImage {
  const backend = options.backend ?? machineIptablesBackend();
  const { name, tag } = nameAndTag(kubeProxyImage(options.version));
  return packOciImage({
    name,
    tag,
    extraTags: (options.extraVersions ?? []).map((version) => nameAndTag(kubeProxyImage(version)).tag),
    layers: [
      iptablesLayer(backend),
      [
        { type: 'directory', path: '/usr/local' },
        { type: 'directory', path: '/usr/local/bin' },
        { type: 'file', path: KUBE_PROXY_PATH, fromFile: options.binary, mode: 0o755 },
      ],
    ],
    config: { entrypoint: [KUBE_PROXY_PATH], env: ['PATH=/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'] },
    architecture: hostArchitecture(),
  });
}

/** Which xtables the machine's `iptables` command is. */
export function machineIptablesBackend(): IptablesBackend {
  const command = ['/usr/sbin/iptables', '/sbin/iptables'].find((path) => exists(path));
  if (!command) throw new Error('iptables is not installed (apt-get install -y iptables)');
  const target = realpathSync(command);
  const backend = (Object.keys(XTABLES_MULTI) as IptablesBackend[]).find((b) => XTABLES_MULTI[b] === target);
  if (!backend)
    throw new Error(`${command} is ${target}, neither ${Object.values(XTABLES_MULTI).join(' nor ')}`);
  return backend;
}

/**
 * The xtables multi-binary of `backend`, the iptables names linked to it, its libraries and the extensions
 * it loads (with theirs), each at its path on this machine with the symlinks leading there.
 */
export function iptablesLayer(backend: IptablesBackend): LayerEntry[] {
  let layer = iptablesLayers.get(backend);
  if (!layer) iptablesLayers.set(backend, (layer = readIptablesLayer(backend)));
  return layer;
}
/** Read once per process: `ldd` over a hundred extensions takes a second. */
const iptablesLayers = new Map<IptablesBackend, LayerEntry[]>();

function readIptablesLayer(backend: IptablesBackend): LayerEntry[] {
  const multi = XTABLES_MULTI[backend];
  const extensionsDir = '/usr/lib/x86_64-linux-gnu/xtables';
  const extensions = exists(extensionsDir)
    ? readdirSync(extensionsDir)
        .filter((file) => file.endsWith('.so'))
        .map((file) => join(extensionsDir, file))
    : [];
  return machinePathsLayer(
    [multi, ...extensions, ...sharedLibraries([multi, ...extensions])],
    IPTABLES_COMMANDS.map((command) => ({
      type: 'symlink',
      path: `/usr/sbin/${command}`,
      target: multi.slice('/usr/sbin/'.length),
    })),
  );
}

/**
 * A layer holding `paths` as they resolve on this machine (hostPathEntries), then `extra` entries,
 * a later entry for a path replacing an earlier one. Parents come before children, in one order
 * whatever the order of discovery, so the digest is stable.
 */
export function machinePathsLayer(paths: Iterable<string>, extra: readonly LayerEntry[] = []): LayerEntry[] {
  const entries = new Map<string, LayerEntry>();
  for (const path of paths) for (const entry of hostPathEntries(path)) entries.set(entry.path, entry);
  for (const entry of extra) entries.set(entry.path, entry);
  return [...entries.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** The absolute paths `ldd` lists for ELF objects, the dynamic loader included. */
export function sharedLibraries(objects: readonly string[]): string[] {
  return parseLdd(execFileSync('ldd', objects, { encoding: 'utf8' }));
}

/** Pure: the absolute paths of `ldd` output lines (`lib => /path (addr)` or `/path (addr)`); no duplicates. */
export function parseLdd(output: string): string[] {
  const paths: string[] = [];
  for (const line of output.split('\n')) {
    const match = /(?:=>\s*)?(\/\S+)\s+\(0x[0-9a-f]+\)/.exec(line);
    if (match?.[1]) paths.push(match[1]);
    else if (/=>\s*not found/.test(line)) throw new Error(`a library is missing: ${line.trim()}`);
  }
  return [...new Set(paths)];
}

/**
 * Layer entries that make `path` resolve in the image as it does here: every directory on the way, each
 * symlink met (a component or the file itself) and the file it ends at, read from this machine.
 */
export function hostPathEntries(path: string): LayerEntry[] {
  if (!isAbsolute(path)) throw new Error(`${path} is not absolute`);
  const entries: LayerEntry[] = [];
  let pending = path.split('/').filter(Boolean);
  let current = '/';
  for (let hops = 0; pending.length > 0;) {
    const [part, ...rest] = pending as [string, ...string[]];
    pending = rest;
    const next = join(current, part);
    const stat = lstatSync(next);
    if (stat.isSymbolicLink()) {
      if (++hops > 40) throw new Error(`too many symlinks resolving ${path}`);
      const target = readlinkSync(next);
      entries.push({ type: 'symlink', path: next, target });
      pending = [...resolve(dirname(next), target).split('/').filter(Boolean), ...pending];
      current = '/';
    } else if (stat.isDirectory()) {
      entries.push({ type: 'directory', path: next, mode: stat.mode & 0o7777 });
      current = next;
    } else {
      if (pending.length > 0) throw new Error(`${next} is not a directory (resolving ${path})`);
      entries.push({ type: 'file', path: next, fromFile: next, mode: statSync(next).mode & 0o7777 });
      current = next;
    }
  }
  return entries;
}

function exists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

function nameAndTag(reference: string): { name: string; tag: string } {
  const colon = reference.lastIndexOf(':');
  return { name: reference.slice(0, colon), tag: reference.slice(colon + 1) };
}
