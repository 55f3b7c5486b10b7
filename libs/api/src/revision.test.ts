import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { NodePoolTemplate } from './node-pool.ts';
import { defined } from './testdata/defined.ts';
import { canonicalJson, REVISION_LENGTH, revisionName, templateRevision } from './revision.ts';

const name = fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/);
const template: fc.Arbitrary<NodePoolTemplate> = fc.record(
  {
    components: fc.uniqueArray(
      fc.record({ name, version: fc.stringMatching(/^v?[0-9]\.[0-9]{1,2}\.[0-9]$/) }),
      {
        selector: (c) => c.name,
        maxLength: 5,
      },
    ),
    files: fc.uniqueArray(
      fc.record({
        path: name.map((n) => `/etc/${n}`),
        content: fc.string({ maxLength: 20 }),
        mode: fc.integer({ min: 0, max: 511 }),
      }),
      { selector: (f) => f.path, maxLength: 4 },
    ),
    labels: fc.dictionary(name, fc.string({ maxLength: 8 }), { maxKeys: 4 }),
    taints: fc.array(
      fc.record({ key: name, effect: fc.constantFrom('NoSchedule' as const, 'NoExecute' as const) }),
      { maxLength: 3 },
    ),
  },
  { requiredKeys: [] },
);

/** Rebuilds every object with its keys in another order, deeply. */
function reorderKeys(value: unknown, seed: number): unknown {
  if (Array.isArray(value)) return value.map((item) => reorderKeys(item, seed));
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value);
  const rotated = entries.map((_, i) => defined(entries[(i + seed) % entries.length]));
  return Object.fromEntries(rotated.reverse().map(([k, v]) => [k, reorderKeys(v, seed)]));
}

/** Every path to a leaf value of `value`. */
function leafPaths(value: unknown, path: (string | number)[] = []): (string | number)[][] {
  if (Array.isArray(value)) return value.flatMap((item, i) => leafPaths(item, [...path, i]));
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => leafPaths(v, [...path, k]));
  }
  return [path];
}

function changedAt(value: unknown, path: (string | number)[]): unknown {
  const copy = structuredClone(value) as Record<string | number, unknown>;
  let node = copy;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  const last = defined(path.at(-1));
  const old = node[last];
  node[last] = typeof old === 'number' ? old + 1 : typeof old === 'string' ? `${old}x` : !old;
  return copy;
}

describe('templateRevision', () => {
  it('is a short hex string', () => {
    expect(templateRevision({})).toMatch(new RegExp(`^[0-9a-f]{${REVISION_LENGTH}}$`));
    expect(revisionName('workers', 'abc')).toBe('workers-abc');
  });

  it('does not change when object keys are reordered', () => {
    fc.assert(
      fc.property(template, fc.nat(7), (t, seed) => {
        expect(templateRevision(reorderKeys(t, seed) as NodePoolTemplate)).toBe(templateRevision(t));
      }),
    );
  });

  it('does not change when components or files are listed in another order', () => {
    fc.assert(
      fc.property(template, (t) => {
        const reversed = { ...t, components: t.components?.toReversed(), files: t.files?.toReversed() };
        expect(templateRevision(reversed)).toBe(templateRevision(t));
      }),
    );
  });

  it('changes when any value changes', () => {
    fc.assert(
      fc.property(
        template.filter((t) => leafPaths(t).some((p) => p.length > 0)),
        fc.nat(),
        (t, pick) => {
          const paths = leafPaths(t).filter((p) => p.length > 0);
          const path = defined(paths[pick % paths.length]);
          expect(templateRevision(changedAt(t, path) as NodePoolTemplate)).not.toBe(templateRevision(t));
        },
      ),
    );
  });

  it('keeps the order of atomic lists, since it carries meaning', () => {
    expect(canonicalJson([2, 1], { type: 'array' })).toBe('[2,1]');
    expect(canonicalJson([2, 1], { type: 'array', 'x-kubernetes-list-type': 'set' })).toBe('[1,2]');
  });
});
