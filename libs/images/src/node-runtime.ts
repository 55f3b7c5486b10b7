/**
 * The bottom layer of kok's app images: the pinned Node.js binary and the
 * shared libraries it is linked against, taken from the machine that builds
 * the image (the `node` npm package ships a dynamically linked binary), and a
 * passwd entry for the non-root user the images run as.
 */
import { execFileSync } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { basename } from 'node:path';
import type { LayerEntry } from '@kok/host-rig';

/** The uid and gid every kok image runs as: not root, and numeric so `runAsNonRoot` can check it. */
export const IMAGE_USER = '65532:65532';

/** Where the Node.js binary sits in an app image. */
export const NODE_IN_IMAGE = '/usr/local/bin/node';

/**
 * The files `ldd` says a binary loads, the dynamic loader included, by absolute path. Pure: parses
 * lines such as `libm.so.6 => /lib/x86_64-linux-gnu/libm.so.6 (0x…)` and
 * `/lib64/ld-linux-x86-64.so.2 (0x…)`; the kernel's vDSO has no file and is left out. A library `ldd`
 * cannot find is an error: the image would not start.
 */
export function sharedLibrariesOf(lddOutput: string): string[] {
  const paths: string[] = [];
  for (const line of lddOutput.split('\n').map((l) => l.trim())) {
    if (line === '' || line.startsWith('linux-vdso') || line === 'statically linked') continue;
    const missing = /^(\S+) => not found$/.exec(line);
    if (missing) throw new Error(`the binary needs ${missing[1]}, which this machine does not have`);
    const linked = /^\S+ => (\/\S+) \(0x[0-9a-f]+\)$/.exec(line) ?? /^(\/\S+) \(0x[0-9a-f]+\)$/.exec(line);
    if (!linked?.[1]) throw new Error(`cannot read this line of ldd's output: "${line}"`);
    paths.push(linked[1]);
  }
  return [...new Set(paths)].sort();
}

export interface NodeRuntime {
  /** `v24.x.y`, as `node --version` prints it. */
  version: string;
  entries: LayerEntry[];
}

/**
 * The runtime layer for the Node.js binary at `nodeBinary` (a symlink is followed), and `tools`, this
 * machine's binaries the app runs (each put in /usr/local/bin under its own name), with the libraries
 * all of them load.
 */
export function nodeRuntime(nodeBinary: string, tools: readonly string[] = []): NodeRuntime {
  const binary = realpathSync(nodeBinary);
  const version = execFileSync(binary, ['--version'], { encoding: 'utf8' }).trim();
  const libraries = [
    ...new Set(
      [binary, ...tools].flatMap((file) =>
        sharedLibrariesOf(execFileSync('ldd', [file], { encoding: 'utf8' })),
      ),
    ),
  ].sort();
  const files: LayerEntry[] = [
    { type: 'file', path: NODE_IN_IMAGE, fromFile: binary, mode: 0o755 },
    ...tools.map((tool): LayerEntry => ({
      type: 'file',
      path: `/usr/local/bin/${basename(tool)}`,
      fromFile: realpathSync(tool),
      mode: 0o755,
    })),
    // At the path the binary names: the loader is found by its absolute path, the rest on its default
    // search path, which holds the Debian multiarch directory they come from.
    ...libraries.map((path): LayerEntry => ({
      type: 'file',
      path,
      fromFile: realpathSync(path),
      mode: 0o755,
    })),
    { type: 'file', path: '/etc/passwd', content: passwd, mode: 0o644 },
    { type: 'file', path: '/etc/group', content: group, mode: 0o644 },
  ];
  return {
    version,
    entries: [...files, { type: 'directory', path: '/tmp', mode: 0o1777 }],
  };
}

const [uid, gid] = IMAGE_USER.split(':');
const passwd = `root:x:0:0:root:/root:/sbin/nologin\nkok:x:${uid}:${gid}:kok:/nonexistent:/sbin/nologin\n`;
const group = `root:x:0:\nkok:x:${gid}:\n`;
