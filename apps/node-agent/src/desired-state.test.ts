import { describe, expect, it } from 'vitest';
import { sha256Of } from './atomic-file.ts';
import { desiredState, withoutUnwritableFiles } from './desired-state.ts';
import { expandHostVariables } from './host-paths.ts';
import type { ComponentObject, MachineObject } from './resources.ts';

const machine = (content: string): MachineObject =>
  ({
    apiVersion: 'nodes.kok.dev/v1alpha1',
    kind: 'Machine',
    metadata: { name: 'm1' },
    spec: { address: '10.213.0.10', files: [{ path: '/etc/containerd/config.toml', content }] },
  }) as MachineObject;

describe('desired state', () => {
  it('expands host variables in file content, and hashes what lands on disk', () => {
    const expand = (text: string) =>
      expandHostVariables(text, { root: '/hosts/m1', nodeName: 'm1', nodeIP: '10.213.0.10' });
    const state = desiredState(
      machine('root = "$(KOK_ROOT)/var/lib/containerd" # $(KOK_NODE_NAME) $(KOK_NODE_IP)'),
      new Map(),
      undefined,
      undefined,
      expand,
    );
    const expected = 'root = "/hosts/m1/var/lib/containerd" # m1 10.213.0.10';
    expect(state.files).toMatchObject([{ content: expected, sha256: sha256Of(expected) }]);
  });

  it('keeps the content as written without an expander', () => {
    const state = desiredState(machine('x = "$(KOK_ROOT)"'), new Map(), undefined);
    expect(state.files[0]?.content).toBe('x = "$(KOK_ROOT)"');
  });

  it.each([
    [
      'a file from a Secret is readable by root only',
      { secretRef: { namespace: 'n', name: 's', key: 'k' } },
      0o600,
      true,
    ],
    [
      'a file from a ConfigMap is readable by all',
      { configMapRef: { namespace: 'n', name: 'c', key: 'k' } },
      0o644,
      false,
    ],
    ['an inline file is readable by all', { content: 'x' }, 0o644, false],
    [
      'a mode set in the spec wins for a Secret',
      { secretRef: { namespace: 'n', name: 's', key: 'k' }, mode: 0o640 },
      0o640,
      true,
    ],
    ['a mode set in the spec wins inline', { content: 'x', mode: 0o600 }, 0o600, false],
  ])('%s', (_, source, mode, secret) => {
    const spec = { ...machine('unused').spec, files: [{ path: '/etc/f', ...source }] };
    const state = desiredState({ ...machine('unused'), spec } as MachineObject, new Map(), undefined, () => ({
      content: 'from the object',
    }));
    expect(state.files[0]).toMatchObject({ mode, secret });
  });
});

describe('desired components', () => {
  it("carry the catalog's dataPaths, what a leaving host deletes", () => {
    const catalogEntry = (name: string, dataPaths?: string[]): [string, ComponentObject] => [
      name,
      {
        apiVersion: 'nodes.kok.dev/v1alpha1',
        kind: 'Component',
        metadata: { name },
        spec: {
          versions: [{ version: '2.2.9', artifact: { url: `https://a/${name}`, sha256: 'a'.repeat(64) } }],
          install: { method: 'Archive', path: `/usr/local/lib/${name}` },
          ...(dataPaths ? { dataPaths } : {}),
        },
      },
    ];
    const state = desiredState(
      {
        ...machine('a'),
        spec: {
          components: [
            { name: 'containerd', version: '2.2.9' },
            { name: 'tool', version: '2.2.9' },
          ],
        },
      } as MachineObject,
      new Map([catalogEntry('containerd', ['/var/lib/containerd', '/run/containerd']), catalogEntry('tool')]),
      undefined,
    );
    expect(state.components.map((c) => [c.name, c.dataPaths])).toEqual([
      ['containerd', ['/var/lib/containerd', '/run/containerd']],
      ['tool', undefined],
    ]);
  });
});

describe('files the host cannot take', () => {
  const state = desiredState(
    {
      ...machine('a'),
      spec: {
        files: [
          { path: '/etc/a', content: 'a' },
          { path: '/etc/b', content: 'b' },
        ],
      },
    } as MachineObject,
    new Map(),
    undefined,
  );

  it('become problems the status reports, and the other files still converge', () => {
    const result = withoutUnwritableFiles(state, new Map([['/etc/b', '/etc/b is a directory on the host']]));
    expect(result.files.map((f) => f.path)).toEqual(['/etc/a']);
    expect(result.problems).toEqual([
      { reason: 'FilePathRefused', message: '/etc/b is a directory on the host' },
    ]);
  });

  it('leave the state as it is when there are none', () => {
    expect(withoutUnwritableFiles(state, new Map())).toBe(state);
  });
});
