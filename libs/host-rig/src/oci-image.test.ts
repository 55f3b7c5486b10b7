import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ociMediaTypes, packOciImage, writeOciImage, type OciImageOptions } from './oci-image.ts';

const scratch = mkdtempSync(join(tmpdir(), 'oci-image-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const hostFile = join(scratch, 'tool');
writeFileSync(hostFile, '#!/bin/sh\necho from the host\n');

const options: OciImageOptions = {
  name: 'kok.dev/test/sample',
  tag: '1.0',
  layers: [
    [
      { type: 'directory', path: '/bin' },
      { type: 'file', path: '/bin/tool', fromFile: hostFile, mode: 0o755 },
      { type: 'symlink', path: '/bin/t', target: 'tool' },
    ],
    [
      { type: 'directory', path: 'etc', mode: 0o750 },
      { type: 'file', path: 'etc/greeting', content: 'hello\n', mode: 0o644 },
    ],
  ],
  config: {
    entrypoint: ['/bin/tool'],
    cmd: ['--loud'],
    env: ['PATH=/bin'],
    workingDir: '/etc',
    user: '0',
    labels: { 'b.label': '2', 'a.label': '1' },
    exposedPorts: ['8080/tcp'],
  },
};

interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: unknown;
  annotations?: Record<string, string>;
}

/** The layout as GNU tar extracts it, with its blobs resolved by digest. */
function readLayout(tarball: Buffer) {
  const root = mkdtempSync(join(scratch, 'layout-'));
  writeFileSync(`${root}.tar`, tarball);
  execFileSync('tar', ['-xf', `${root}.tar`, '-C', root]);
  const blobPath = (digest: string) => join(root, 'blobs', digest.replace(':', '/'));
  const json = (path: string) => JSON.parse(readFileSync(path, 'utf8'));
  const index = json(join(root, 'index.json')) as {
    schemaVersion: number;
    mediaType: string;
    manifests: Descriptor[];
  };
  const [manifestDescriptor] = index.manifests;
  if (!manifestDescriptor) throw new Error('index.json lists no manifest');
  const manifest = json(blobPath(manifestDescriptor.digest)) as {
    schemaVersion: number;
    mediaType: string;
    config: Descriptor;
    layers: Descriptor[];
  };
  return {
    root,
    blobPath,
    index,
    manifestDescriptor,
    manifest,
    config: json(blobPath(manifest.config.digest)) as Record<string, unknown> & {
      rootfs: { type: string; diff_ids: string[] };
    },
    layout: json(join(root, 'oci-layout')) as unknown,
  };
}

function layerListing(layerFile: string): string[] {
  const output = execFileSync('tar', ['--numeric-owner', '-tvf', layerFile], {
    env: { ...process.env, TZ: 'UTC' },
  });
  return output
    .toString()
    .trimEnd()
    .split('\n')
    .map((line) => line.replace(/\s+/g, ' '));
}

describe('OCI image packer', () => {
  it('writes a valid image layout: every blob is named by its sha256 and every descriptor has its size', () => {
    const image = packOciImage(options);
    const { root, blobPath, index, manifestDescriptor, manifest, layout } = readLayout(image.tarball);
    expect(layout).toEqual({ imageLayoutVersion: '1.0.0' });
    const blobNames = readdirSync(join(root, 'blobs/sha256'));
    for (const name of blobNames) {
      const content = readFileSync(join(root, 'blobs/sha256', name));
      expect(createHash('sha256').update(content).digest('hex')).toBe(name);
    }
    const descriptors = [manifestDescriptor, manifest.config, ...manifest.layers];
    for (const descriptor of descriptors)
      expect(statSync(blobPath(descriptor.digest)).size).toBe(descriptor.size);
    expect(blobNames.sort()).toEqual(descriptors.map((descriptor) => descriptor.digest.slice(7)).sort());
    expect(index).toMatchObject({ schemaVersion: 2, mediaType: ociMediaTypes.index });
    expect(index.manifests).toHaveLength(1);
    expect(manifest).toMatchObject({ schemaVersion: 2, mediaType: ociMediaTypes.manifest });
    expect(manifest.config.mediaType).toBe(ociMediaTypes.config);
    expect(manifest.layers.map((layer) => layer.mediaType)).toEqual([
      ociMediaTypes.layer,
      ociMediaTypes.layer,
    ]);
  });

  it('names the manifest in index.json by tag and by full reference, and returns its digest', () => {
    const image = packOciImage(options);
    const { manifestDescriptor } = readLayout(image.tarball);
    expect(image.reference).toBe('kok.dev/test/sample:1.0');
    expect(image.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(manifestDescriptor).toEqual({
      mediaType: ociMediaTypes.manifest,
      digest: image.digest,
      size: manifestDescriptor.size,
      platform: { architecture: 'amd64', os: 'linux' },
      annotations: {
        'org.opencontainers.image.ref.name': '1.0',
        'io.containerd.image.name': 'kok.dev/test/sample:1.0',
      },
    });
  });

  it('records the runtime config and the layer digests as diff_ids, with no timestamp', () => {
    const { manifest, config } = readLayout(packOciImage({ ...options, architecture: 'arm64' }).tarball);
    expect(config).toEqual({
      architecture: 'arm64',
      os: 'linux',
      config: {
        Entrypoint: ['/bin/tool'],
        Cmd: ['--loud'],
        Env: ['PATH=/bin'],
        WorkingDir: '/etc',
        User: '0',
        Labels: { 'a.label': '1', 'b.label': '2' },
        ExposedPorts: { '8080/tcp': {} },
      },
      rootfs: { type: 'layers', diff_ids: manifest.layers.map((layer) => layer.digest) },
    });
  });

  it('puts each layer as an uncompressed tar of its entries, image paths made relative', () => {
    const { blobPath, manifest } = readLayout(packOciImage(options).tarball);
    const [first, second] = manifest.layers.map((layer) => layerListing(blobPath(layer.digest)));
    expect(first).toEqual([
      'drwxr-xr-x 0/0 0 1970-01-01 00:00 bin/',
      '-rwxr-xr-x 0/0 29 1970-01-01 00:00 bin/tool',
      'lrwxrwxrwx 0/0 0 1970-01-01 00:00 bin/t -> tool',
    ]);
    expect(second).toEqual([
      'drwxr-x--- 0/0 0 1970-01-01 00:00 etc/',
      '-rw-r--r-- 0/0 6 1970-01-01 00:00 etc/greeting',
    ]);
  });

  it('gives byte-identical tarballs and digests for the same inputs, whatever the key order', () => {
    const first = packOciImage(options);
    const reordered = packOciImage({
      ...options,
      config: { ...options.config, labels: { 'a.label': '1', 'b.label': '2' } },
    });
    expect(reordered.tarball.equals(first.tarball)).toBe(true);
    expect(reordered.digest).toBe(first.digest);
    const manifestBlob = readFileSync(readLayout(first.tarball).blobPath(first.digest), 'utf8');
    expect(manifestBlob).toBe(JSON.stringify(JSON.parse(manifestBlob))); // compact, keys as sorted when written
    expect(Object.keys(JSON.parse(manifestBlob))).toEqual(['config', 'layers', 'mediaType', 'schemaVersion']);
  });

  it('keeps the manifest digest across tags (the tag is only in index.json) and changes it with content', () => {
    const base = packOciImage(options);
    const retagged = packOciImage({ ...options, tag: '2.0' });
    expect(retagged.digest).toBe(base.digest);
    expect(retagged.tarball.equals(base.tarball)).toBe(false);
    const changed = packOciImage({ ...options, config: { ...options.config, cmd: ['--quiet'] } });
    expect(changed.digest).not.toBe(base.digest);
  });

  it('stores two identical layers as one blob listed twice', () => {
    const layer = [{ type: 'file', path: 'x', content: 'x', mode: 0o644 }] as const;
    const { root, manifest } = readLayout(packOciImage({ ...options, layers: [layer, layer] }).tarball);
    expect(manifest.layers[0]).toEqual(manifest.layers[1]);
    expect(readdirSync(join(root, 'blobs/sha256'))).toHaveLength(3);
  });

  it('writes the same tarball to a file', async () => {
    const path = join(scratch, 'nested/dir/sample.oci.tar');
    const written = await writeOciImage(path, options);
    expect(readFileSync(path).equals(packOciImage(options).tarball)).toBe(true);
    expect(written.digest).toBe(packOciImage(options).digest);
  });

  it.each([
    [
      'a name without a registry domain',
      { name: 'pause' },
      /must be a registry domain .* docker.io\/library/,
    ],
    ['a name with upper case', { name: 'kok.dev/Test/pause' }, /lowercase path components/],
    ['a tag starting with "."', { tag: '.1' }, /image tag ".1"/],
    [
      'a relative fromFile',
      { layers: [[{ type: 'file', path: 'a', fromFile: 'tool', mode: 0o644 }]] },
      /absolute/,
    ],
    [
      'a missing fromFile',
      { layers: [[{ type: 'file', path: 'a', fromFile: '/no/such', mode: 0o644 }]] },
      /cannot read \/no\/such/,
    ],
    [
      'a bad entry, naming its layer',
      { layers: [[], [{ type: 'directory', path: 'a/../b' }]] },
      /layer 1: tar entry "a\/..\/b"/,
    ],
  ] as const)('refuses %s', (_, change, message) => {
    expect(() => packOciImage({ ...options, ...change })).toThrow(message);
  });
});
