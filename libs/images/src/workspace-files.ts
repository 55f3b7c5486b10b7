/**
 * What an app needs at run time from this repository: its own sources, the
 * sources of the workspace libs it imports, and the production packages of
 * both, with npm's dependency tree (`npm ls --omit=dev --all`) as the one
 * answer to "which packages". The repository's layout is kept under the image's
 * root directory, workspace links included, so Node.js resolves every import
 * inside the image as it does in the repository.
 */
import { execFileSync } from 'node:child_process';
import { lstatSync, readdirSync, readlinkSync } from 'node:fs';
import { dirname, join, posix, relative, resolve } from 'node:path';
import type { LayerEntry } from '@kok/host-rig';

/** One package in `npm ls --json --long`'s tree (the fields read here). */
export interface NpmTreeNode {
  path?: string;
  resolved?: string;
  dependencies?: Record<string, NpmTreeNode>;
}

/** A package an app needs: an installed one, or a workspace package linked from node_modules. */
export type RuntimePackage =
  { kind: 'installed'; dir: string } | { kind: 'workspace'; link: string; dir: string };

/**
 * Every package reachable from workspace package `name` in npm's tree, once each, sorted by directory.
 * Pure. A workspace package is one npm resolved to `file:` a directory of the repository.
 */
export function runtimePackages(tree: NpmTreeNode, name: string): RuntimePackage[] {
  const root = tree.dependencies?.[name];
  if (!root) throw new Error(`npm's tree has no package ${name}: is it a workspace of this repository?`);
  const found = new Map<string, RuntimePackage>();
  // npm prints a package's dependencies at one of its places in the tree only (elsewhere it is
  // "deduped"): a place is expanded when it lists dependencies and no place of that path was before.
  const expanded = new Set<string>();
  const visit = (node: NpmTreeNode) => {
    const { path } = node;
    // Not installed: an optional peer no package here asked for (required ones missing make npm ls fail).
    if (!path) return;
    // A deduped place may lack `resolved`: the place that has it says whether the path is a workspace link.
    if (node.resolved?.startsWith('file:'))
      found.set(path, {
        kind: 'workspace',
        link: path,
        dir: resolve(dirname(path), node.resolved.slice('file:'.length)),
      });
    else if (!found.has(path)) found.set(path, { kind: 'installed', dir: path });
    const children = Object.entries(node.dependencies ?? {});
    if (children.length === 0 || expanded.has(path)) return;
    expanded.add(path);
    for (const [, childNode] of children) visit(childNode);
  };
  visit(root);
  return [...found.values()].sort((a, b) => (a.dir < b.dir ? -1 : a.dir > b.dir ? 1 : 0));
}

/** npm's production tree of workspace `name` in the repository at `repoRoot`. */
export function npmProductionTree(repoRoot: string, name: string): NpmTreeNode {
  const output = execFileSync(
    'npm',
    ['ls', '--json', '--long', '--omit=dev', '--all', `--workspace=${name}`],
    { cwd: repoRoot, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  return JSON.parse(output) as NpmTreeNode;
}

/** In a workspace package, what only its tests use: left out of images. */
const TEST_ONLY = /(^|\/)(fixtures|simulators|test-support|testdata)(\/|$)|\.test\.ts$/;

/**
 * The layer entries of `packages`, at their paths relative to `repoRoot` under `imageRoot`, with every
 * parent directory listed once. Installed packages come whole (a package's own node_modules are other
 * packages, listed on their own); of a workspace package, its package.json and its src/ without tests.
 */
export function runtimePackageEntries(
  packages: readonly RuntimePackage[],
  repoRoot: string,
  imageRoot: string,
): LayerEntry[] {
  const inImage = (path: string) => posix.join(imageRoot, relative(repoRoot, path).split('\\').join('/'));
  const entries = new Map<string, LayerEntry>();
  const addDirectories = (path: string) => {
    for (let dir = posix.dirname(path); dir !== '/' && !entries.has(dir); dir = posix.dirname(dir))
      entries.set(dir, { type: 'directory', path: dir });
  };
  const add = (entry: LayerEntry) => {
    addDirectories(entry.path);
    entries.set(entry.path, entry);
  };
  const addTree = (dir: string, keep: (relativePath: string) => boolean) => {
    for (const name of readdirSync(dir, { recursive: true }) as string[]) {
      const path = join(dir, name);
      const relativePath = name.split('\\').join('/');
      if (relativePath.split('/').includes('node_modules') || !keep(relativePath)) continue;
      const stat = lstatSync(path);
      if (stat.isSymbolicLink()) add({ type: 'symlink', path: inImage(path), target: readlinkSync(path) });
      else if (stat.isFile())
        add({ type: 'file', path: inImage(path), fromFile: path, mode: stat.mode & 0o111 ? 0o755 : 0o644 });
    }
  };
  for (const pkg of packages) {
    if (pkg.kind === 'installed') {
      addTree(pkg.dir, () => true);
      continue;
    }
    add({ type: 'symlink', path: inImage(pkg.link), target: relative(dirname(pkg.link), pkg.dir) });
    addTree(pkg.dir, (path) => (path === 'package.json' || path.startsWith('src/')) && !TEST_ONLY.test(path));
  }
  return [...entries.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
