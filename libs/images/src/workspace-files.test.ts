import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { NpmTreeNode } from './workspace-files.ts';
import { runtimePackageEntries, runtimePackages } from './workspace-files.ts';

// The shape `npm ls --json --long --omit=dev --all` prints: a package's dependencies are listed at one
// of its places only; elsewhere it appears without them ("deduped").
const tree: NpmTreeNode = {
  path: '/repo',
  dependencies: {
    '@kok/app': {
      path: '/repo/node_modules/@kok/app',
      resolved: 'file:../../apps/app',
      dependencies: {
        '@kok/lib': { path: '/repo/node_modules/@kok/lib' }, // deduped here
        client: { path: '/repo/node_modules/client' }, // deduped here
        '@kok/other': {
          path: '/repo/node_modules/@kok/other',
          resolved: 'file:../../libs/other',
          dependencies: {
            '@kok/lib': {
              path: '/repo/node_modules/@kok/lib',
              resolved: 'file:../../libs/lib',
              dependencies: {
                client: {
                  path: '/repo/node_modules/client',
                  dependencies: { yaml: { path: '/repo/node_modules/yaml' }, optionalPeer: {} },
                },
                ajv: { path: '/repo/libs/lib/node_modules/ajv' },
              },
            },
          },
        },
      },
    },
    'root-only': { path: '/repo/node_modules/root-only' },
  },
};

describe('runtimePackages', () => {
  it('follows every dependency once, where npm lists it, skipping what is not installed', () => {
    expect(runtimePackages(tree, '@kok/app')).toEqual([
      { kind: 'workspace', link: '/repo/node_modules/@kok/app', dir: '/repo/apps/app' },
      { kind: 'workspace', link: '/repo/node_modules/@kok/lib', dir: '/repo/libs/lib' },
      { kind: 'installed', dir: '/repo/libs/lib/node_modules/ajv' },
      { kind: 'workspace', link: '/repo/node_modules/@kok/other', dir: '/repo/libs/other' },
      { kind: 'installed', dir: '/repo/node_modules/client' },
      { kind: 'installed', dir: '/repo/node_modules/yaml' },
    ]);
  });

  it('says so when the package is not a workspace of the tree', () => {
    expect(() => runtimePackages(tree, '@kok/nope')).toThrow(/no package @kok\/nope/);
  });
});

describe('runtimePackageEntries', () => {
  const repo = mkdtempSync(join(tmpdir(), 'kok-images-test-'));
  afterAll(() => rmSync(repo, { recursive: true, force: true }));
  const file = (path: string, mode = 0o644) => {
    mkdirSync(join(repo, path, '..'), { recursive: true });
    writeFileSync(join(repo, path), path, { mode });
  };

  it('keeps the layout and the workspace links, and leaves tests and nested packages out', () => {
    file('apps/app/package.json');
    file('apps/app/src/main.ts');
    file('apps/app/src/main.test.ts');
    file('apps/app/src/fixtures/host.ts');
    file('apps/app/README.md');
    file('node_modules/client/package.json');
    file('node_modules/client/bin/run', 0o755);
    file('node_modules/client/node_modules/dev-only/index.js');
    mkdirSync(join(repo, 'node_modules/@kok'), { recursive: true });
    symlinkSync('../../apps/app', join(repo, 'node_modules/@kok/app'));
    const entries = runtimePackageEntries(
      [
        { kind: 'workspace', link: join(repo, 'node_modules/@kok/app'), dir: join(repo, 'apps/app') },
        { kind: 'installed', dir: join(repo, 'node_modules/client') },
      ],
      repo,
      '/app',
    );
    expect(
      entries.map(({ path, type, ...rest }) => [path, type, 'mode' in rest ? rest.mode : undefined]),
    ).toEqual([
      ['/app', 'directory', undefined],
      ['/app/apps', 'directory', undefined],
      ['/app/apps/app', 'directory', undefined],
      ['/app/apps/app/package.json', 'file', 0o644],
      ['/app/apps/app/src', 'directory', undefined],
      ['/app/apps/app/src/main.ts', 'file', 0o644],
      ['/app/node_modules', 'directory', undefined],
      ['/app/node_modules/@kok', 'directory', undefined],
      ['/app/node_modules/@kok/app', 'symlink', undefined],
      ['/app/node_modules/client', 'directory', undefined],
      ['/app/node_modules/client/bin', 'directory', undefined],
      ['/app/node_modules/client/bin/run', 'file', 0o755],
      ['/app/node_modules/client/package.json', 'file', 0o644],
    ]);
    expect(entries.find((e) => e.path === '/app/node_modules/@kok/app')).toMatchObject({
      target: '../../apps/app',
    });
  });
});
