// README.md shows this file from the next line to "end of example"; the last test keeps the two the same.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureBinaries, pinnedVersions } from '@kok/testing';
import { describe, expect, it } from 'vitest';
// The lib's public surface; other projects import it from '@kok/images'.
import { packKokImage, runInContainer, unpackImage } from './index.ts';

describe('an image of a control-plane binary', () => {
  it('is named as the operator names it, and starts in a real container', () => {
    const { kubernetes, etcd } = pinnedVersions();
    const image = packKokImage('kube-scheduler', {
      repoRoot: join(import.meta.dirname, '../../..'),
      nodeBinary: process.execPath, // only the app images carry Node.js
      binariesDir: ensureBinaries(),
      kubernetesVersion: kubernetes,
      etcdVersion: etcd,
    });
    expect(image.reference).toBe(`registry.k8s.io/kube-scheduler:${kubernetes}`);

    const dir = mkdtempSync(join(tmpdir(), 'kok-example-'));
    try {
      writeFileSync(join(dir, 'scheduler.oci.tar'), image.tarball); // what `ctr images import` takes
      const unpacked = unpackImage(join(dir, 'scheduler.oci.tar'));
      const run = runInContainer(unpacked, { args: ['--version'] });
      unpacked.remove();
      expect(run.stdout).toBe(`Kubernetes ${kubernetes}\n`);
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
