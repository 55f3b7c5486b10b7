// README.md shows this file from the next line to "end of example"; the last test keeps the two the same.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
// The lib's public surface; other projects import it from '@kok/host-rig'.
import { packOciImage, writeOciImage, writeTestImages, type OciImageOptions } from './index.ts';

const sample: OciImageOptions = {
  name: 'kok.dev/test/sample', // with a registry domain: kubelet would read `sample` as docker.io/library/sample
  tag: '1.0',
  layers: [
    [
      { type: 'directory', path: '/bin' },
      { type: 'file', path: '/bin/greet', content: '#!/bin/sh\necho hello\n', mode: 0o755 },
      { type: 'symlink', path: '/bin/hi', target: 'greet' },
    ],
    [{ type: 'file', path: '/etc/greeting', content: 'hello\n', mode: 0o644 }],
  ],
  config: { entrypoint: ['/bin/greet'], env: ['PATH=/bin'], exposedPorts: ['8080/tcp'] },
};

describe('images without a registry', () => {
  it('packs the same options into the same bytes, named for containerd', async () => {
    const image = packOciImage(sample);
    expect(image.reference).toBe('kok.dev/test/sample:1.0');
    expect(packOciImage(sample).digest).toBe(image.digest); // no timestamps: reproducible

    // An OCI image layout in a tar, as `ctr -n k8s.io images import` takes it.
    const dir = mkdtempSync(join(tmpdir(), 'example-image-'));
    try {
      await writeOciImage(join(dir, 'sample.oci.tar'), sample);
      execFileSync('tar', ['-xf', join(dir, 'sample.oci.tar'), '-C', dir]);
      const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8'));
      expect(index.manifests[0]).toMatchObject({
        digest: image.digest,
        annotations: { 'io.containerd.image.name': 'kok.dev/test/sample:1.0' },
      });

      // The images test hosts run, built from the host's busybox.
      expect(await writeTestImages(dir)).toEqual([
        { path: join(dir, 'pause.oci.tar'), reference: 'kok.dev/test/pause:3.10' },
        { path: join(dir, 'busybox.oci.tar'), reference: 'kok.dev/test/busybox:1' },
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
// end of example

it('is the example README.md shows', () => {
  const source = readFileSync(new URL(import.meta.url), 'utf8');
  const start = source.indexOf('\n', source.indexOf('README.md shows this file')) + 1;
  const example = source.slice(start, source.indexOf('// end of example'));
  expect(example).toContain("from './index.ts'");
  expect(readFileSync(new URL('../README.md', import.meta.url), 'utf8')).toContain(example);
});
