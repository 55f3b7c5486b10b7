import { machineType } from '@kok/api';
import type { MachineObject } from '@kok/api';
import { describe, expect, it } from 'vitest';
import { UpgradeClock } from './upgrade-clock.ts';

const version = (name: string, spec: string, current: string): MachineObject =>
  ({
    apiVersion: machineType.apiVersion,
    kind: machineType.kind,
    metadata: { name },
    spec: { pool: 'p', revision: spec, components: [] },
    status: { revision: { current, desired: spec } },
  }) as MachineObject;

describe('UpgradeClock', () => {
  it.each<[string, [MachineObject, number][], number[]]>([
    [
      'times each machine from the spec naming the revision to its status reporting it',
      [
        [version('a', 'old', 'old'), 0],
        [version('a', 'new', 'old'), 100],
        [version('b', 'new', 'old'), 150],
        [version('a', 'new', 'new'), 1_100],
        [version('b', 'new', 'new'), 1_350],
      ],
      [1_000, 1_200],
    ],
    [
      'counts the first sight of each end only (heartbeats and later writes do not move them)',
      [
        [version('a', 'new', 'old'), 100],
        [version('a', 'new', 'old'), 400],
        [version('a', 'new', 'new'), 1_100],
        [version('a', 'new', 'new'), 5_000],
      ],
      [1_000],
    ],
    ['leaves out a machine whose upgrade it never saw start', [[version('a', 'new', 'new'), 100]], []],
    ['leaves out a machine still upgrading', [[version('a', 'new', 'old'), 100]], []],
    [
      'ignores other revisions',
      [
        [version('a', 'other', 'old'), 100],
        [version('a', 'other', 'other'), 900],
      ],
      [],
    ],
  ])('%s', (_, versions, expected) => {
    const clock = new UpgradeClock('new');
    for (const [machine, at] of versions) clock.observe(machine, at);
    expect(clock.upgradeMs()).toEqual(expected);
  });
});
