import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { packOciImage, type LayerEntry, type OciImage, type OciImageOptions } from './oci-image.ts';

/**
 * The images test hosts run, packed from the host's statically linked busybox (Debian's busybox-static):
 * no registry, no pulls. Each is built once per process.
 */

export const pauseImageReference = 'kok.dev/test/pause:3.10';
export const workloadImageReference = 'kok.dev/test/busybox:1';

/** Busybox from Debian's busybox-static, statically linked so it runs in an image with nothing else. */
export const busyboxPath = '/bin/busybox';

/** Sleeps until SIGTERM or SIGINT, then exits 0 at once (the sleep runs in the background so the trap fires). */
export const sleepUntilTerminatedScript = "trap 'exit 0' TERM INT; while :; do sleep 3600 & wait $!; done";

/** Applets the workload image links in /bin. */
export const workloadApplets = ['sh', 'sleep', 'cat', 'echo', 'ls', 'wget', 'httpd', 'hostname'] as const;

let pause: OciImage | undefined;
let workload: OciImage | undefined;

/** `kok.dev/test/pause:3.10`: busybox and /bin/sh only; its entrypoint sleeps until terminated. */
export function pauseImage(): OciImage {
  pause ??= packOciImage({
    ...imageName(pauseImageReference),
    layers: [[...busyboxLayer(), { type: 'symlink', path: '/bin/sh', target: 'busybox' }]],
    config: {
      entrypoint: [busyboxPath, 'sh', '-c', sleepUntilTerminatedScript],
      env: ['PATH=/bin'],
    },
    architecture: hostArchitecture(),
  });
  return pause;
}

/**
 * `kok.dev/test/busybox:1`: busybox with the applets in {@link workloadApplets} linked in /bin and a
 * world-writable /tmp; by default a shell that sleeps until terminated (set `command` to run something else).
 */
export function workloadImage(): OciImage {
  workload ??= packOciImage({
    ...imageName(workloadImageReference),
    layers: [
      [
        ...busyboxLayer(),
        ...workloadApplets.map((applet): LayerEntry => ({
          type: 'symlink',
          path: `/bin/${applet}`,
          target: 'busybox',
        })),
        { type: 'directory', path: '/tmp', mode: 0o1777 },
      ],
    ],
    config: { cmd: ['/bin/sh', '-c', sleepUntilTerminatedScript], env: ['PATH=/bin'] },
    architecture: hostArchitecture(),
  });
  return workload;
}

/** Writes every test image as `<dir>/<short name>.oci.tar` (pause.oci.tar, busybox.oci.tar). */
export async function writeTestImages(dir: string): Promise<{ path: string; reference: string }[]> {
  await mkdir(dir, { recursive: true });
  const written = [];
  for (const image of [pauseImage(), workloadImage()]) {
    const path = join(dir, `${shortName(image.reference)}.oci.tar`);
    await writeFile(path, image.tarball);
    written.push({ path, reference: image.reference });
  }
  return written;
}

function busyboxLayer(): LayerEntry[] {
  if (!existsSync(busyboxPath))
    throw new Error(
      `${busyboxPath} is missing: the test images are built from Debian's busybox-static ` +
        '(apt-get install -y busybox-static)',
    );
  if (needsDynamicLoader(readFileSync(busyboxPath)))
    throw new Error(
      `${busyboxPath} is dynamically linked and would not run in an image without libc: ` +
        "install Debian's busybox-static instead of busybox (apt-get install -y busybox-static)",
    );
  return [
    { type: 'directory', path: '/bin' },
    { type: 'file', path: busyboxPath, fromFile: busyboxPath, mode: 0o755 },
  ];
}

/** Whether a 64-bit little-endian ELF executable has a PT_INTERP program header (other formats: not judged). */
function needsDynamicLoader(elf: Buffer): boolean {
  const isElf64LittleEndian =
    elf.length > 0x40 && elf.readUInt32BE(0) === 0x7f454c46 && elf[4] === 2 && elf[5] === 1;
  if (!isElf64LittleEndian) return false;
  const programHeaders = Number(elf.readBigUInt64LE(0x20));
  const entrySize = elf.readUInt16LE(0x36);
  const count = elf.readUInt16LE(0x38);
  const interpreterType = 3;
  for (let i = 0; i < count; i++)
    if (elf.readUInt32LE(programHeaders + i * entrySize) === interpreterType) return true;
  return false;
}

/** GOARCH of this machine: the platform `ctr images import` keeps by default. */
export function hostArchitecture(): string {
  const goArchitectures: Partial<Record<NodeJS.Architecture, string>> = { x64: 'amd64', ia32: '386' };
  return goArchitectures[process.arch] ?? process.arch;
}

function imageName(reference: string): Pick<OciImageOptions, 'name' | 'tag'> {
  const colon = reference.lastIndexOf(':');
  return { name: reference.slice(0, colon), tag: reference.slice(colon + 1) };
}

function shortName(reference: string): string {
  return imageName(reference).name.split('/').pop() ?? reference;
}
