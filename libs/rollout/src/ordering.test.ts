import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareNatural, naturalSortKey, orderMachines } from './ordering.ts';
import type { MachineState } from './machine-state.ts';
import { machine } from './test-support/machines.ts';

const names = (machines: readonly { name: string }[]): string[] => machines.map((m) => m.name);

describe('orderMachines', () => {
  it('orders by name, reading numbers as numbers', () => {
    const ordered = orderMachines(
      ['worker-10', 'worker-2', 'worker-1', 'worker-02b', 'db-3'].map((name) => machine(name)),
      [],
    );
    expect(names(ordered)).toEqual(['db-3', 'worker-1', 'worker-2', 'worker-02b', 'worker-10']);
  });

  it('orders by each order key in turn, then by name; machines missing a label go last', () => {
    const ordered = orderMachines(
      [
        machine('n1', { labels: { zone: 'b', rack: '2' } }),
        machine('n2', { labels: { zone: 'a', rack: '10' } }),
        machine('n3', { labels: { rack: '1' } }),
        machine('n4', { labels: { zone: 'a', rack: '9' } }),
        machine('n5', { labels: { zone: 'b' } }),
        machine('n6', { labels: { zone: 'a', rack: '9' } }),
      ],
      ['zone', 'rack'],
    );
    expect(names(ordered)).toEqual(['n4', 'n6', 'n2', 'n1', 'n5', 'n3']);
  });

  it('treats an order key named like an Object method as a missing label', () => {
    const ordered = orderMachines(
      [machine('n2'), machine('n1', { labels: { constructor: 'x' } })],
      ['constructor'],
    );
    expect(names(ordered)).toEqual(['n1', 'n2']);
  });

  it('gives the same order whatever order the machines come in', () => {
    const fleet = fc.uniqueArray(
      fc.record({
        name: fc.stringMatching(/^[a-c]{0,2}-?[0-9]{0,3}$/),
        zone: fc.option(fc.constantFrom('a', 'b', 'c'), { nil: undefined }),
      }),
      { selector: (host) => host.name, maxLength: 30 },
    );
    fc.assert(
      fc.property(fleet, fc.nat(), (hosts, seed) => {
        const machines = hosts.map((host) =>
          machine(host.name, { labels: host.zone === undefined ? {} : { zone: host.zone } }),
        );
        const shuffled = [...machines].sort(() => 0).reverse();
        const rotated = [
          ...machines.slice(seed % (machines.length || 1)),
          ...machines.slice(0, seed % (machines.length || 1)),
        ];
        const expected = names(orderMachines(machines, ['zone']));
        expect(names(orderMachines(shuffled, ['zone']))).toEqual(expected);
        expect(names(orderMachines(rotated, ['zone']))).toEqual(expected);
      }),
    );
  });
});

/** The order `orderMachines` promises, written the slow way: compare label by label, then names. */
function referenceOrder(machines: readonly MachineState[], orderKeys: readonly string[]): string[] {
  const value = (m: MachineState, key: string): string | undefined =>
    Object.hasOwn(m.labels, key) ? m.labels[key] : undefined;
  return names(
    [...machines].sort((a, b) => {
      for (const key of orderKeys) {
        const [va, vb] = [value(a, key), value(b, key)];
        if (va === undefined || vb === undefined) {
          if (va !== vb) return va === undefined ? 1 : -1;
          continue;
        }
        const byValue = compareNatural(va, vb);
        if (byValue !== 0) return byValue;
      }
      return compareNatural(a.name, b.name);
    }),
  );
}

// Digits, letters on both sides of them, and the characters the fast path cannot encode.
const awkwardText = fc.string({
  unit: fc.constantFrom('0', '1', '7', 'a', '~', '-', '\u0000', '\u0001', '\uffff'),
  maxLength: 8,
});

describe('orderMachines and its remembered orders', () => {
  it('orders any names and label values like the label-by-label natural comparison', () => {
    const fleet = fc.uniqueArray(
      fc.record({
        name: fc.oneof(awkwardText, fc.stringMatching(/^w-0*[0-9]{1,14}$/)),
        zone: fc.option(awkwardText, { nil: undefined }),
      }),
      { selector: (host) => host.name, maxLength: 40 },
    );
    fc.assert(
      fc.property(fleet, (hosts) => {
        const machines = hosts.map((host) =>
          machine(host.name, { labels: host.zone === undefined ? {} : { zone: host.zone } }),
        );
        expect(names(orderMachines(machines, ['zone']))).toEqual(referenceOrder(machines, ['zone']));
        expect(names(orderMachines(machines, []))).toEqual(referenceOrder(machines, []));
      }),
    );
  });

  it('gives the order of a fresh sort after the pool is relisted, relabelled, grown or shrunk', () => {
    const host = fc.record({
      name: fc.stringMatching(/^[a-c]{1,2}-[0-9]{1,3}$/),
      zone: fc.option(fc.constantFrom('a', 'b', '10', '9'), { nil: undefined }),
    });
    const change = fc.oneof(
      fc.record({ kind: fc.constant('relist' as const), seed: fc.nat() }),
      fc.record({
        kind: fc.constant('relabel' as const),
        at: fc.nat(),
        zone: fc.constantFrom('a', 'c', '2'),
      }),
      fc.record({ kind: fc.constant('add' as const), name: fc.stringMatching(/^[a-d]-[0-9]{1,3}$/) }),
      fc.record({ kind: fc.constant('remove' as const), at: fc.nat() }),
      fc.record({ kind: fc.constant('same' as const) }),
    );
    fc.assert(
      fc.property(
        fc.uniqueArray(host, { selector: (h) => h.name, maxLength: 20 }),
        fc.array(change, { maxLength: 12 }),
        (hosts, changes) => {
          let machines = hosts.map((h) =>
            machine(h.name, { labels: h.zone === undefined ? {} : { zone: h.zone } }),
          );
          for (const step of changes) {
            machines = machines.map((m) => ({ ...m })); // every observation is a fresh snapshot
            if (step.kind === 'relist' && machines.length > 0) {
              const cut = step.seed % machines.length;
              machines = [...machines.slice(cut), ...machines.slice(0, cut)].reverse();
            } else if (step.kind === 'relabel' && machines.length > 0) {
              const target = machines[step.at % machines.length] as MachineState;
              target.labels = { zone: step.zone };
            } else if (step.kind === 'add' && !machines.some((m) => m.name === step.name)) {
              machines.push(machine(step.name));
            } else if (step.kind === 'remove' && machines.length > 0) {
              machines.splice(step.at % machines.length, 1);
            }
            expect(names(orderMachines(machines, ['zone']))).toEqual(referenceOrder(machines, ['zone']));
          }
        },
      ),
    );
  });

  it('keeps two machines with one name apart, in the order they were listed', () => {
    const first = machine('dup', { labels: { zone: 'b' } });
    const second = machine('dup', { labels: { zone: 'b' } });
    expect(orderMachines([second, machine('a'), first], ['zone'])).toEqual([second, first, machine('a')]);
    expect(orderMachines([first, machine('a'), second], ['zone'])).toEqual([first, second, machine('a')]);
  });
});

describe('naturalSortKey', () => {
  it('orders encodable text exactly as compareNatural does', () => {
    const piece = fc.oneof(
      // A small alphabet, so that runs often start alike and one run is a prefix of another.
      fc.stringMatching(/^[019a.~-]{0,4}$/),
      fc.stringMatching(/^0*[0-9]{1,20}$/),
      fc.string({ unit: 'binary', maxLength: 3 }),
    );
    // Two texts with a common start: the cases where the encoding has to get the details right.
    fc.assert(
      fc.property(piece, piece, piece, (start, restA, restB) => {
        const [a, b] = [start + restA, start + restB];
        const [keyA, keyB] = [naturalSortKey(a), naturalSortKey(b)];
        fc.pre(keyA !== undefined && keyB !== undefined);
        const byKey = keyA === keyB ? 0 : (keyA as string) < (keyB as string) ? -1 : 1;
        expect(byKey).toBe(Math.sign(compareNatural(a, b)));
      }),
      { numRuns: 500 },
    );
  });

  it('declines text holding the characters it uses as markers', () => {
    expect(naturalSortKey('a\u0000b')).toBeUndefined();
    expect(naturalSortKey('\u0001')).toBeUndefined();
    expect(naturalSortKey('z\uffff')).toBeUndefined();
    expect(naturalSortKey('worker-7')).toBeDefined();
  });
});

describe('compareNatural', () => {
  it('reads digit runs by value, and tells equal values apart by their text', () => {
    expect(['a10', 'a2', 'a010', 'a1', 'a01', 'b', 'a'].sort(compareNatural)).toEqual([
      'a',
      'a01',
      'a1',
      'a2',
      'a010',
      'a10',
      'b',
    ]);
  });

  it('is a total order: antisymmetric, transitive, and 0 only for equal strings', () => {
    const text = fc.stringMatching(/^[a0-9~-]{0,6}$/);
    fc.assert(
      fc.property(text, text, text, (a, b, c) => {
        expect(Math.sign(compareNatural(a, b)) + Math.sign(compareNatural(b, a))).toBe(0);
        expect(compareNatural(a, b) === 0).toBe(a === b);
        if (compareNatural(a, b) < 0 && compareNatural(b, c) < 0)
          expect(compareNatural(a, c)).toBeLessThan(0);
      }),
    );
  });
});
