import { describe, expect, it } from 'vitest';
import { nextGateRecords } from './gate-records.ts';

const t0 = new Date('2026-01-01T00:00:00.000Z');
const at = (seconds: number) => new Date(t0.getTime() + seconds * 1000);

describe('nextGateRecords', () => {
  it('starts a gate when it opens and completes it when the component is Available at the desired version', () => {
    const step1 = nextGateRecords(
      [],
      [
        { gate: 'EtcdAvailable', open: true, availableAtDesired: false },
        { gate: 'APIServerAvailable', open: false, availableAtDesired: false },
      ],
      at(0),
    );
    expect(step1.gates).toEqual([{ name: 'EtcdAvailable', startedAt: '2026-01-01T00:00:00.000Z' }]);
    expect(step1.completed).toEqual([]);

    const step2 = nextGateRecords(
      step1.gates,
      [
        { gate: 'EtcdAvailable', open: true, availableAtDesired: true },
        { gate: 'APIServerAvailable', open: true, availableAtDesired: false },
      ],
      at(4.5),
    );
    expect(step2.gates).toEqual([
      {
        name: 'EtcdAvailable',
        startedAt: '2026-01-01T00:00:00.000Z',
        completedAt: '2026-01-01T00:00:04.500Z',
        durationMilliseconds: 4500,
      },
      { name: 'APIServerAvailable', startedAt: '2026-01-01T00:00:04.500Z' },
    ]);
    expect(step2.completed.map((g) => g.name)).toEqual(['EtcdAvailable']);
  });

  it('passes a gate whose component needs no change in zero time', () => {
    const { gates, completed } = nextGateRecords(
      [],
      [{ gate: 'EtcdAvailable', open: true, availableAtDesired: true }],
      at(1),
    );
    expect(gates[0]?.durationMilliseconds).toBe(0);
    expect(completed).toHaveLength(1);
  });

  it('keeps a completed gate as it was, even if the component later degrades', () => {
    const done = nextGateRecords(
      [],
      [{ gate: 'EtcdAvailable', open: true, availableAtDesired: true }],
      at(1),
    ).gates;
    const later = nextGateRecords(
      done,
      [{ gate: 'EtcdAvailable', open: true, availableAtDesired: false }],
      at(9),
    );
    expect(later.gates).toEqual(done);
    expect(later.completed).toEqual([]);
  });
});
