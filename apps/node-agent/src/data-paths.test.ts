import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { dataPathRefusal, mountPointsAtOrBelow, removeDataPath, resolvedDataPath } from './data-paths.ts';
import { hostPaths } from './host-paths.ts';

const AGENT_DIRS = ['/var/lib/kok-agent', '/opt/kok', '/var/log/kok', '/run/kok'];

describe('dataPathRefusal', () => {
  it.each([
    ['/var/lib/containerd', undefined],
    ['/run/containerd', undefined],
    ['/var/lib/kubelet/', undefined],
    ['/opt/kok/kubelet', undefined],
    ['/var/lib/kok-agent-other', undefined],
    ['/', "/ is the host's root"],
    ['//', "// is the host's root"],
    ['/var', "/var holds the node-agent's own /var/lib/kok-agent"],
    ['/var/lib/', "/var/lib/ holds the node-agent's own /var/lib/kok-agent"],
    ['/opt/kok', "/opt/kok holds the node-agent's own /opt/kok"],
    ['/run', "/run holds the node-agent's own /run/kok"],
  ])('%s: %s', (path, reason) => {
    expect(dataPathRefusal(path, AGENT_DIRS)).toBe(reason);
  });
});

describe('mountPointsAtOrBelow', () => {
  const mountinfo = [
    '21 1 0:1 / / rw - ext4 /dev/sda rw',
    '30 21 0:30 / /r/var/lib/kubelet rw - tmpfs tmpfs rw',
    '31 30 0:31 / /r/var/lib/kubelet/pods/p1/volumes/kubernetes.io~projected/token rw - tmpfs tmpfs rw',
    '32 30 0:32 / /r/var/lib/kubelet/pods/p\\0402/volumes/v rw - tmpfs tmpfs rw',
    '33 21 0:33 / /r/var/lib/kubelet-other rw - tmpfs tmpfs rw',
    '34 21 0:34 / /r/run/containerd/io.containerd.runtime.v2.task/k8s.io/c1/rootfs rw - overlay overlay rw',
  ].join('\n');

  it('lists the mounts at or below a path, deepest first, never a sibling that shares its prefix', () => {
    expect(mountPointsAtOrBelow('/r/var/lib/kubelet', mountinfo)).toEqual([
      '/r/var/lib/kubelet/pods/p1/volumes/kubernetes.io~projected/token',
      '/r/var/lib/kubelet/pods/p 2/volumes/v',
      '/r/var/lib/kubelet',
    ]);
    expect(mountPointsAtOrBelow('/r/run/containerd', mountinfo)).toEqual([
      '/r/run/containerd/io.containerd.runtime.v2.task/k8s.io/c1/rootfs',
    ]);
    expect(mountPointsAtOrBelow('/r/var/lib/containerd', mountinfo)).toEqual([]);
  });
});

describe('removing a data path', () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function host() {
    dir = mkdtempSync(join(tmpdir(), 'kok-data-paths-'));
    const root = join(dir, 'root');
    mkdirSync(join(root, 'var/lib/containerd/io.containerd.snapshotter.v1.overlayfs'), { recursive: true });
    writeFileSync(join(root, 'var/lib/containerd/meta.db'), 'x');
    return hostPaths(root);
  }

  it('deletes the whole tree when nothing is mounted there', async () => {
    const paths = host();
    const resolved = await resolvedDataPath(paths, '/var/lib/containerd');
    expect(resolved).toEqual({ real: join(paths.root, 'var/lib/containerd') });
    if (!('real' in resolved)) throw new Error('unreachable');
    expect(await removeDataPath(resolved.real, async () => '')).toEqual([]);
    expect(existsSync(join(paths.root, 'var/lib/containerd'))).toBe(false);
    expect(existsSync(join(paths.root, 'var/lib'))).toBe(true);
  });

  it('deletes nothing while something below stays mounted', async () => {
    const paths = host();
    const real = join(paths.root, 'var/lib/containerd');
    // Listed as mounted, and no umount can take it away (it is not a mount at all).
    const stuck = `40 21 0:40 / ${real}/io.containerd.snapshotter.v1.overlayfs rw - overlay overlay rw`;
    await expect(removeDataPath(real, async () => stuck)).rejects.toThrow(
      `cannot unmount ${real}/io.containerd.snapshotter.v1.overlayfs: ${real} is not deleted`,
    );
    expect(existsSync(join(real, 'meta.db'))).toBe(true);
  });

  it('leaves a path whose parent leads outside the root, and calls a missing one missing', async () => {
    const paths = host();
    const outside = join(dir, 'outside');
    mkdirSync(join(outside, 'containerd'), { recursive: true });
    symlinkSync(outside, join(paths.root, 'var/run'));
    expect(await resolvedDataPath(paths, '/var/run/containerd')).toEqual({
      problem: `/var/run/containerd: its parent leads outside the root ${paths.root} (to ${outside})`,
    });
    expect(await resolvedDataPath(paths, '/no/such/dir')).toEqual({ missing: true });
  });

  it('deletes a symlink at the path itself, not what it points to', async () => {
    const paths = host();
    const outside = join(dir, 'outside');
    mkdirSync(outside);
    writeFileSync(join(outside, 'keep'), 'x');
    symlinkSync(outside, join(paths.root, 'var/lib/kubelet'));
    const resolved = await resolvedDataPath(paths, '/var/lib/kubelet');
    if (!('real' in resolved)) throw new Error(`not resolved: ${JSON.stringify(resolved)}`);
    await removeDataPath(resolved.real, async () => '');
    expect(existsSync(join(paths.root, 'var/lib/kubelet'))).toBe(false);
    expect(existsSync(join(outside, 'keep'))).toBe(true);
  });
});
