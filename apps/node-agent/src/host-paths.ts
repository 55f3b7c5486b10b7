/**
 * Every host path the agent touches lives under one root (`--root`, default
 * `/`), so tests run many agents on one machine without privileges.
 */
import { lstat, readlink, realpath, stat } from 'node:fs/promises';
import { isAbsolute, join, normalize, relative, sep } from 'node:path';
import { isMissing } from './atomic-file.ts';

export interface HostPaths {
  readonly root: string;
  /** A host path (as written in a Machine or Component) under the root. */
  host(path: string): string;
  /** `<root>/opt/kok/<component>`: every unpacked version plus the `current` symlink. */
  componentDir(component: string): string;
  /** `<root>/opt/kok/<component>/<version>`. */
  versionDir(component: string, version: string): string;
  /** `<root>/opt/kok/<component>/current` → `<version>`. */
  currentLink(component: string): string;
  /** `<root>/var/lib/kok-agent`: journal and download cache. */
  stateDir: string;
  /** `<root>/var/lib/kok-agent/downloads`. */
  downloadsDir: string;
  /** `<root>/var/log/kok`: logs of supervised processes. */
  logDir: string;
  /** `<root>/run/kok`: pid files of supervised processes. */
  runDir: string;
  /** `<root>/etc/systemd/system`: unit files of the systemd service manager. */
  unitDir: string;
}

export function hostPaths(root: string): HostPaths {
  const base = normalize(root);
  const host = (path: string): string => {
    if (!isAbsolute(path)) throw new Error(`host path "${path}" must be absolute`);
    const full = join(base, path);
    const rel = relative(base, full);
    if (rel.startsWith('..')) throw new Error(`host path "${path}" escapes the root ${base}`);
    return full;
  };
  const componentDir = (component: string): string => host(`/opt/kok/${safeSegment(component)}`);
  return {
    root: base,
    host,
    componentDir,
    versionDir: (component, version) => join(componentDir(component), safeSegment(version)),
    currentLink: (component) => join(componentDir(component), 'current'),
    stateDir: host('/var/lib/kok-agent'),
    downloadsDir: host('/var/lib/kok-agent/downloads'),
    logDir: host('/var/log/kok'),
    runDir: host('/run/kok'),
    unitDir: host('/etc/systemd/system'),
  };
}

/**
 * Why the agent must not put a file (or an install-path symlink) at host path
 * `path`, or undefined when it may. The lexical check of `host()` is not
 * enough: an absolute symlink inside the root (`<root>/var/run -> /run`)
 * would carry a write outside it while status says it landed. So every
 * existing parent is resolved and must stay inside the root and be a
 * directory; the path itself must not be a directory or end with `/`.
 */
export async function hostPathProblem(paths: HostPaths, path: string): Promise<string | undefined> {
  if (path.endsWith('/')) return `${path} ends with /: it must name a file`;
  const full = paths.host(path);
  const rootReal = await realpath(paths.root);
  const parts = relative(paths.root, full).split(sep);
  for (let depth = 1; depth < parts.length; depth++) {
    const parent = join(paths.root, ...parts.slice(0, depth));
    const shown = `/${parts.slice(0, depth).join('/')}`;
    let real: string;
    try {
      real = await realpath(parent);
    } catch (error) {
      if (!isMissing(error)) throw error;
      const link = await lstat(parent).catch(() => undefined);
      if (link?.isSymbolicLink())
        return `${path}: its parent ${shown} is a symlink to ${await readlink(parent)}, which does not exist`;
      return undefined; // Missing parents are created inside the root.
    }
    const inside = relative(rootReal, real);
    if (inside === '..' || inside.startsWith(`..${sep}`) || isAbsolute(inside))
      return `${path}: its parent ${shown} leads outside the root ${paths.root} (to ${real}); refusing to write through it`;
    if (!(await stat(real)).isDirectory()) return `${path}: its parent ${shown} is not a directory`;
  }
  const target = await lstat(full).catch((error: unknown) => {
    if (isMissing(error)) return undefined;
    throw error;
  });
  if (target?.isDirectory()) return `${path} is a directory on the host`;
  return undefined;
}

/** Whether a component name or version can be one path segment under /opt/kok: no slashes, no dot-only names. */
export function isSafeSegment(segment: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9._+-]*$/.test(segment) && segment !== 'current';
}

function safeSegment(segment: string): string {
  if (!isSafeSegment(segment)) {
    throw new Error(`"${segment}" cannot be used as a directory name under /opt/kok`);
  }
  return segment;
}

export interface HostVariables {
  readonly root: string;
  readonly nodeName: string;
  /** The Machine's address; `$(KOK_NODE_IP)` stays as written while it has none. */
  readonly nodeIP?: string | undefined;
}

/**
 * Expands `$(KOK_ROOT)`, `$(KOK_NODE_NAME)` and `$(KOK_NODE_IP)` in a command
 * argument, URL or file content (Kubernetes `$(VAR)` style).
 */
export function expandHostVariables(text: string, variables: HostVariables): string {
  const root = variables.root === '/' ? '' : variables.root.replace(/\/$/, '');
  const expanded = text.replaceAll('$(KOK_ROOT)', root).replaceAll('$(KOK_NODE_NAME)', variables.nodeName);
  return variables.nodeIP === undefined ? expanded : expanded.replaceAll('$(KOK_NODE_IP)', variables.nodeIP);
}
