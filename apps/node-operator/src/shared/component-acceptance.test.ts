import type { Component } from '@kok/api';
import { describe, expect, it } from 'vitest';
import { componentAcceptance, componentStatusFor } from './component-acceptance.ts';

const SHA = 'a'.repeat(64);
const version = (v: string) => ({
  version: v,
  artifact: { url: `https://artifacts.example/${v}`, sha256: SHA },
});

function component(spec: Partial<Component['spec']> = {}, generation = 3): Component {
  return {
    apiVersion: 'nodes.kok.dev/v1alpha1',
    kind: 'Component',
    metadata: { name: 'kubelet', generation, uid: 'u-1', resourceVersion: '42' },
    spec: {
      versions: [version('v1.36.0'), version('v1.36.1')],
      install: { method: 'Binary', path: '/usr/local/bin/kubelet' },
      ...spec,
    },
  } as Component;
}

const importInto = (...command: string[]) => ({ method: 'Image' as const, importCommand: command });

describe('componentAcceptance', () => {
  it.each<[string, Component, { status: string; reason: string; message?: RegExp }]>([
    ['a well-formed Binary entry', component(), { status: 'True', reason: 'Valid' }],
    [
      'an Image whose import command is given the tarball',
      component({ install: importInto('ctr', 'images', 'import', '$(KOK_ARTIFACT)') }),
      { status: 'True', reason: 'Valid' },
    ],
    [
      'a version pattern the agent compiles',
      component({ versionCheck: { command: ['kubelet', '--version'], pattern: 'Kubernetes (v[0-9.]+)' } }),
      { status: 'True', reason: 'Valid' },
    ],
    [
      // The CRD rejects this today; an object stored before the rule existed is still caught.
      'duplicate versions',
      component({ versions: [version('v1.36.0'), version('v1.36.0')] }),
      {
        status: 'False',
        reason: 'InvalidSpec',
        message: /spec\.versions: Invalid value: versions must be unique/,
      },
    ],
    [
      'a Binary without the path it writes to',
      component({ install: { method: 'Binary' } }),
      { status: 'False', reason: 'InvalidSpec', message: /install\.path is required/ },
    ],
    [
      'an Image import that never names the downloaded tarball',
      component({ install: importInto('ctr', 'images', 'import', '/tmp/image.tar') }),
      { status: 'False', reason: 'InvalidImportCommand', message: /never names \$\(KOK_ARTIFACT\)/ },
    ],
    [
      // RE2 (and so CEL) accepts (?P<name>…); the agent's JavaScript RegExp does not.
      'a version pattern only RE2 understands',
      component({ versionCheck: { command: ['kubelet', '--version'], pattern: 'v(?P<v>[0-9.]+)' } }),
      {
        status: 'False',
        reason: 'InvalidVersionPattern',
        message: /versionCheck\.pattern "v\(\?P<v>\[0-9\.\]\+\)" does not compile/,
      },
    ],
    [
      'two problems: the first gives the reason, the message names both',
      component({
        install: importInto('ctr', 'import'),
        versionCheck: { command: ['ctr', 'version'], pattern: '([0-9.]+' },
      }),
      { status: 'False', reason: 'InvalidImportCommand', message: /KOK_ARTIFACT.*; versionCheck\.pattern/ },
    ],
  ])('%s', (_, entry, expected) => {
    const verdict = componentAcceptance(entry);
    expect(verdict).toMatchObject({
      type: 'Accepted',
      status: expected.status,
      reason: expected.reason,
      observedGeneration: 3,
    });
    if (expected.message) expect(verdict.message).toMatch(expected.message);
  });
});

describe('componentStatusFor', () => {
  const T0 = new Date('2026-01-01T00:00:00Z');
  const T1 = new Date('2026-01-01T00:05:00Z');

  it('records the generation it judged, and moves lastTransitionTime only when Accepted flips', () => {
    const first = componentStatusFor(component(), T0);
    expect(first).toEqual({
      observedGeneration: 3,
      conditions: [
        {
          type: 'Accepted',
          status: 'True',
          reason: 'Valid',
          message: '',
          lastTransitionTime: '2026-01-01T00:00:00Z',
          observedGeneration: 3,
        },
      ],
    });
    const same = componentStatusFor({ ...component({}, 4), status: first }, T1);
    expect(same.observedGeneration).toBe(4);
    expect(same.conditions?.[0]?.lastTransitionTime).toBe('2026-01-01T00:00:00Z');

    const broken = componentStatusFor(
      { ...component({ install: { method: 'Archive' } }, 5), status: same },
      T1,
    );
    expect(broken.conditions).toHaveLength(1);
    expect(broken.conditions?.[0]).toMatchObject({
      status: 'False',
      reason: 'InvalidSpec',
      lastTransitionTime: '2026-01-01T00:05:00Z',
      observedGeneration: 5,
    });
  });
});
