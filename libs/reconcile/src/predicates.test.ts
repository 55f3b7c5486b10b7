import type { KubernetesObject } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import {
  and,
  generationChanged,
  labelsChanged,
  not,
  or,
  passes,
  resourceVersionChanged,
} from './predicates.ts';

const o = (generation: number, labels: Record<string, string>, rv = '1'): KubernetesObject => ({
  metadata: { generation, labels, resourceVersion: rv },
});

describe('predicates', () => {
  it.each([
    ['generationChanged', generationChanged, o(1, {}), o(2, {}), true],
    ['generationChanged', generationChanged, o(1, {}), o(1, { a: 'b' }), false],
    ['labelsChanged', labelsChanged, o(1, { a: 'b' }), o(2, { a: 'b' }), false],
    ['labelsChanged', labelsChanged, o(1, { a: 'b' }), o(1, { a: 'c' }), true],
    ['resourceVersionChanged', resourceVersionChanged, o(1, {}, '5'), o(1, {}, '5'), false],
    ['or', or(generationChanged, labelsChanged), o(1, {}), o(1, { x: 'y' }), true],
    ['and', and(generationChanged, labelsChanged), o(1, {}), o(2, {}), false],
    ['not', not(generationChanged), o(1, {}), o(2, {}), false],
  ])('%s on update is %s', (_, predicate, oldObj, obj, expected) => {
    expect(passes(predicate, { kind: 'update', oldObj, obj })).toBe(expected);
  });

  it('lets creates and deletes through unless the predicate says otherwise', () => {
    expect(passes(generationChanged, { kind: 'create', obj: o(1, {}) })).toBe(true);
    expect(passes(generationChanged, { kind: 'delete', obj: o(1, {}) })).toBe(true);
    expect(passes(not(generationChanged), { kind: 'create', obj: o(1, {}) })).toBe(false);
  });
});
