import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareNatural, orderMachines } from './ordering.ts';
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
