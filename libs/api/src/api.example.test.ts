// README.md shows this file from the next line to "end of example"; the last test keeps the two the same.
import { describe, expect, it } from 'vitest';
// The lib's public surface; other projects import it from '@kok/api'.
import { describeInvalid, RESOURCES, validatorFor, withDefaults, type NodePool } from './index.ts';

const pool: NodePool = {
  apiVersion: 'nodes.kok.dev/v1alpha1',
  kind: 'NodePool',
  metadata: { name: 'workers' },
  spec: {
    selector: { matchLabels: { 'nodes.kok.dev/pool': 'workers' } },
    template: { components: [{ name: 'kubelet', version: 'v1.36.3' }] },
    rollout: { waves: [{ name: 'canary', count: 1, bakeSeconds: 600 }] },
  },
};

describe('a NodePool checked and defaulted without an apiserver', () => {
  const nodePools = validatorFor(RESOURCES.NodePool); // compiled once per kind

  it('accepts a valid object and fills in what the apiserver would', () => {
    expect(nodePools.validate(pool)).toEqual([]);
    const defaulted = withDefaults(RESOURCES.NodePool, pool);
    expect(defaulted.spec.rollout?.progressDeadlineSeconds).toBe(600);
    expect(pool.spec.rollout?.progressDeadlineSeconds).toBeUndefined(); // the input is not changed
  });

  it('refuses an invalid one in the apiserver’s words, field by field', () => {
    const twoShapes = structuredClone(pool);
    twoShapes.spec.rollout = { waves: [{ name: 'canary', count: 1, percent: 10 }] };
    const errors = nodePools.validate(twoShapes);
    expect(errors).toEqual([
      {
        field: 'spec.rollout.waves[0]',
        message: 'Invalid value: a wave sets exactly one of count, percent or selector',
      },
    ]);
    // The shape of the apiserver's 422 message, for conditions and CLI output.
    expect(describeInvalid('NodePool', twoShapes.metadata.name, errors)).toBe(
      'NodePool "workers" is invalid: spec.rollout.waves[0]: Invalid value: a wave sets exactly one of count, percent or selector',
    );
  });
});
// end of example

it('is the example README.md shows', async () => {
  const { readFileSync } = await import('node:fs');
  const source = readFileSync(new URL(import.meta.url), 'utf8');
  const start = source.indexOf('\n', source.indexOf('README.md shows this file')) + 1;
  const example = source.slice(start, source.indexOf('// end of example'));
  expect(example).toContain("from './index.ts'");
  expect(readFileSync(new URL('../README.md', import.meta.url), 'utf8')).toContain(example);
});
