import { describe, expect, it } from 'vitest';
import { withDefaults } from './defaults.ts';
import { RESOURCES } from './resources.ts';
import type { KindName } from './resources.ts';
import { example } from './testdata/examples.ts';
import { ALLOWED_UPDATES, INVALID_OBJECTS } from './testdata/invalid-objects.ts';
import { describeInvalid, validatorFor } from './validation.ts';

const KINDS = Object.keys(RESOURCES) as KindName[];

function validate(kind: KindName, object: unknown, oldObject?: unknown) {
  return validatorFor(RESOURCES[kind]).validate(object, oldObject);
}

describe('validators', () => {
  it.each(KINDS)('accept the %s example, before and after defaulting', (kind) => {
    const object = example(kind);
    expect(validate(kind, object)).toEqual([]);
    expect(validate(kind, withDefaults(RESOURCES[kind], object as never))).toEqual([]);
  });

  it('accepts waves that mix a count and percentages ([1], [30%], the rest)', () => {
    const waves = [
      { name: 'canary', count: 1 },
      { name: 'early', percent: 30 },
    ];
    const rollout = example('ClusterRollout') as { spec: { waves?: unknown } };
    expect(validate('ClusterRollout', { ...rollout, spec: { ...rollout.spec, waves } })).toEqual([]);
    const pool = example('NodePool') as { spec: { rollout?: Record<string, unknown> } };
    const mixed = { ...pool, spec: { ...pool.spec, rollout: { ...pool.spec.rollout, waves } } };
    expect(validate('NodePool', mixed)).toEqual([]);
  });

  it('accepts admission plugins enabled or disabled through extraArgs as long as NodeRestriction stays on', () => {
    const withApiServerArgs = (extraArgs: Record<string, string>) => {
      const cluster = example('Cluster') as { spec: { controlPlane?: Record<string, unknown> } };
      const controlPlane = cluster.spec.controlPlane ?? {};
      return {
        ...cluster,
        spec: { ...cluster.spec, controlPlane: { ...controlPlane, apiServer: { extraArgs } } },
      };
    };
    const refusals = (extraArgs: Record<string, string>) =>
      validate('Cluster', withApiServerArgs(extraArgs)).map((e) => e.field);
    expect(refusals({ 'enable-admission-plugins': 'AlwaysPullImages,EventRateLimit' })).toEqual([]);
    expect(refusals({ 'disable-admission-plugins': 'PodSecurity' })).toEqual([]);
    expect(refusals({ 'disable-admission-plugins': 'NodeRestrictionExtra' })).toEqual([]);
    expect(refusals({ 'disable-admission-plugins': 'PodSecurity,NodeRestriction' })).toEqual([
      'spec.controlPlane.apiServer.extraArgs',
    ]);
  });

  it('accepts a plain http:// artifact only with allowInsecureHttp, and https:// and file:// without it', () => {
    const withUrl = (url: string, allowInsecureHttp?: boolean) => {
      const component = example('Component');
      const [first] = (component.spec as { versions: { artifact: Record<string, unknown> }[] }).versions;
      if (first)
        Object.assign(first.artifact, {
          url,
          ...(allowInsecureHttp === undefined ? {} : { allowInsecureHttp }),
        });
      return component;
    };
    const refusals = (url: string, allowInsecureHttp?: boolean) =>
      validate('Component', withUrl(url, allowInsecureHttp)).map((e) => e.field);
    expect(refusals('http://127.0.0.1:8080/kubelet', true)).toEqual([]);
    expect(refusals('http://127.0.0.1:8080/kubelet', false)).toEqual(['spec.versions[0].artifact.url']);
    expect(refusals('http://127.0.0.1:8080/kubelet')).toEqual(['spec.versions[0].artifact.url']);
    expect(refusals('https://artifacts.example.internal/kubelet')).toEqual([]);
    expect(refusals('file:///var/lib/kok/kubelet')).toEqual([]);
  });

  it('has at least 100 invalid objects, covering every kind', () => {
    expect(INVALID_OBJECTS.length).toBeGreaterThanOrEqual(100);
    expect(new Set(INVALID_OBJECTS.map((c) => c.kind))).toEqual(new Set(KINDS));
    expect(new Set(INVALID_OBJECTS.map((c) => c.name)).size).toBe(INVALID_OBJECTS.length);
  });

  it.each(INVALID_OBJECTS.map((c) => [c.name, c] as const))('reject: %s', (_, invalidCase) => {
    const { kind, object, update, expect: expected } = invalidCase;
    const oldObject = update ? withDefaults(RESOURCES[kind], example(kind) as never) : undefined;
    const errors = validate(kind, withDefaults(RESOURCES[kind], object as never), oldObject);
    expect(errors).toContainEqual({
      field: expected.field,
      message: expect.stringContaining(expected.message),
    });
  });

  it.each(INVALID_OBJECTS.filter((c) => c.update).map((c) => [c.name, c] as const))(
    'accept as a create what is only invalid as an update: %s',
    (_, invalidCase) => {
      expect(validate(invalidCase.kind, invalidCase.object)).toEqual([]);
    },
  );

  it.each(ALLOWED_UPDATES.map((c) => [c.name, c] as const))('allow the update: %s', (_, allowedUpdate) => {
    const { kind, object } = allowedUpdate;
    expect(validate(kind, object, example(kind))).toEqual([]);
  });

  it('lets a machine address be set once when it had none', () => {
    const before = example('Machine');
    delete before.spec.address;
    const after = example('Machine');
    expect(validate('Machine', after, before)).toEqual([]);
  });

  it('reports paths, types and limits in the apiserver words', () => {
    const pool = example('NodePool');
    (pool.spec as { paused: unknown }).paused = 'yes';
    delete (pool.metadata as { name?: string }).name;
    pool.spec.template = { components: [{ name: 'kubelet' }] };
    expect(validate('NodePool', pool)).toEqual(
      expect.arrayContaining([
        {
          field: 'spec.paused',
          message: 'Invalid value: "string": spec.paused in body must be of type boolean: "string"',
        },
        { field: 'spec.template.components[0].version', message: 'Required value' },
      ]),
    );
    expect(
      describeInvalid('NodePool', 'workers', [{ field: 'spec.template', message: 'Required value' }]),
    ).toBe('NodePool "workers" is invalid: spec.template: Required value');
  });

  it('reports a repeated key of a map list as a duplicate, like the apiserver', () => {
    const machine = example('Machine');
    (machine.spec.components as object[]).push({ name: 'containerd', version: '1.7.23' });
    expect(validate('Machine', machine)).toContainEqual({
      field: 'spec.components[2]',
      message: 'Duplicate value: {"name":"containerd"}',
    });
  });

  it('narrows the type with isValid', () => {
    const object: unknown = example('Cluster');
    const validator = validatorFor(RESOURCES.Cluster);
    if (!validator.isValid(object)) throw new Error('example must be valid');
    expect(object.spec.version).toBe('v1.36.3');
  });
});
