import { describe, expect, it } from 'vitest';
import { nameOf, objectKey } from './resource-type.ts';

describe('nameOf and objectKey', () => {
  it.each([
    ['a namespaced object', { metadata: { namespace: 'ns', name: 'a' } }, 'a', 'ns/a'],
    ['a cluster-scoped object', { metadata: { name: 'b' } }, 'b', 'b'],
    ['no name', { metadata: {} }, '', ''],
    ['no metadata', {}, '', ''],
  ])('%s', (_, obj, name, key) => {
    expect(nameOf(obj)).toBe(name);
    expect(objectKey(obj)).toBe(key);
  });
});
