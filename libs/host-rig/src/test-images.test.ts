import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  busyboxPath,
  pauseImage,
  pauseImageReference,
  sleepUntilTerminatedScript,
  workloadImage,
  writeTestImages,
} from './test-images.ts';
import type { OciImage } from './oci-image.ts';

const scratch = mkdtempSync(join(tmpdir(), 'test-images-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const hostArchitecture = process.arch === 'x64' ? 'amd64' : process.arch;
const isRoot = process.getuid?.() === 0;

/** The image's config and its single layer extracted by GNU tar, with the layer's verbose listing. */
function unpack(image: OciImage) {
  const root = mkdtempSync(join(scratch, 'image-'));
  writeFileSync(`${root}.tar`, image.tarball);
  execFileSync('tar', ['-xf', `${root}.tar`, '-C', root]);
  const blob = (digest: string) => join(root, 'blobs', digest.replace(':', '/'));
  const manifest = JSON.parse(readFileSync(blob(image.digest), 'utf8')) as {
    config: { digest: string };
    layers: { digest: string }[];
  };
  expect(manifest.layers).toHaveLength(1);
  const layer = blob(manifest.layers[0]?.digest ?? '');
  const rootfs = mkdtempSync(join(scratch, 'rootfs-'));
  execFileSync('tar', ['-xpf', layer, '-C', rootfs]);
  const listing = execFileSync('tar', ['--numeric-owner', '-tvf', layer], {
    env: { ...process.env, TZ: 'UTC' },
  })
    .toString()
    .trimEnd()
    .split('\n')
    .map((line) => line.replace(/\s+/g, ' ').replace(/ \d+ 1970-01-01 00:00 /, ' '));
  const config = JSON.parse(readFileSync(blob(manifest.config.digest), 'utf8')) as {
    architecture: string;
    config: { Entrypoint?: string[]; Cmd?: string[]; Env?: string[] };
  };
  return { config, listing, rootfs };
}

describe('test images', () => {
  it('packs the pause image from busybox and a /bin/sh link, with an entrypoint that sleeps until terminated', () => {
    const image = pauseImage();
    expect(image.reference).toBe(pauseImageReference);
    expect(image.reference).toBe('kok.dev/test/pause:3.10');
    const { config, listing, rootfs } = unpack(image);
    expect(listing).toEqual([
      'drwxr-xr-x 0/0 bin/',
      '-rwxr-xr-x 0/0 bin/busybox',
      'lrwxrwxrwx 0/0 bin/sh -> busybox',
    ]);
    expect(readFileSync(join(rootfs, 'bin/busybox')).equals(readFileSync(busyboxPath))).toBe(true);
    expect(config.architecture).toBe(hostArchitecture);
    expect(config.config).toEqual({
      Entrypoint: [
        '/bin/busybox',
        'sh',
        '-c',
        "trap 'exit 0' TERM INT; while :; do sleep 3600 & wait $!; done",
      ],
      Env: ['PATH=/bin'],
    });
  });

  it('packs the workload image with busybox applets linked in /bin and a sleeping shell as default command', () => {
    const image = workloadImage();
    expect(image.reference).toBe('kok.dev/test/busybox:1');
    const { config, listing } = unpack(image);
    expect(listing).toEqual([
      'drwxr-xr-x 0/0 bin/',
      '-rwxr-xr-x 0/0 bin/busybox',
      ...['sh', 'sleep', 'cat', 'echo', 'ls', 'wget', 'httpd', 'hostname'].map(
        (applet) => `lrwxrwxrwx 0/0 bin/${applet} -> busybox`,
      ),
      'drwxrwxrwt 0/0 tmp/',
    ]);
    expect(config.config).toEqual({ Cmd: ['/bin/sh', '-c', sleepUntilTerminatedScript], Env: ['PATH=/bin'] });
  });

  it('builds each image once per process', () => {
    expect(pauseImage()).toBe(pauseImage());
    expect(workloadImage()).toBe(workloadImage());
  });

  it('writes both images as <short name>.oci.tar', async () => {
    const dir = join(scratch, 'images');
    const written = await writeTestImages(dir);
    expect(written).toEqual([
      { path: join(dir, 'pause.oci.tar'), reference: 'kok.dev/test/pause:3.10' },
      { path: join(dir, 'busybox.oci.tar'), reference: 'kok.dev/test/busybox:1' },
    ]);
    expect(readFileSync(join(dir, 'pause.oci.tar')).equals(pauseImage().tarball)).toBe(true);
    expect(readFileSync(join(dir, 'busybox.oci.tar')).equals(workloadImage().tarball)).toBe(true);
  });

  it('runs the sleeping shell until SIGTERM, then exits 0 at once', async () => {
    const child = spawn(busyboxPath, ['sh', '-c', sleepUntilTerminatedScript], { env: { PATH: '/bin' } });
    const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    const signalledAt = Date.now();
    child.kill('SIGTERM');
    expect(await exited).toEqual({ code: 0, signal: null });
    expect(Date.now() - signalledAt).toBeLessThan(2000);
  });

  it.skipIf(!isRoot)('runs the workload applets from a root holding nothing but its layer (chroot)', () => {
    const { rootfs } = unpack(workloadImage());
    const script = 'PATH=/bin; echo hello | cat && ls /bin && ls -d /tmp';
    const output = execFileSync('chroot', [rootfs, '/bin/sh', '-c', script]);
    expect(output.toString().split(/\s+/).filter(Boolean)).toEqual([
      'hello',
      ...['busybox', 'cat', 'echo', 'hostname', 'httpd', 'ls', 'sh', 'sleep', 'wget'],
      '/tmp',
    ]);
  });
});
