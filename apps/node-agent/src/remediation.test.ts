import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { JournalState } from './journal.ts';
import { doneGenerations, rebootProgress, remediationRequests } from './remediation.ts';

const journal = (over: Partial<JournalState> = {}): JournalState => ({
  pending: {},
  touchedDirs: [],
  ...over,
});

describe('remediation requests', () => {
  it.each([
    { name: 'nothing asked', spec: {}, j: journal(), status: undefined, want: {} },
    {
      name: 'first restart',
      spec: { restartGeneration: 1 },
      j: journal(),
      status: undefined,
      want: { restart: 1 },
    },
    {
      name: 'restart already done (journal)',
      spec: { restartGeneration: 2 },
      j: journal({ restartGeneration: 2 }),
      status: undefined,
      want: {},
    },
    {
      name: 'fresh journal trusts the reported reboot: no repeated reboot',
      spec: { rebootGeneration: 3 },
      j: journal(),
      status: { observedRebootGeneration: 3 },
      want: {},
    },
    {
      name: 'the journal wins over status',
      spec: { reinstallGeneration: 2 },
      j: journal({ reinstallGeneration: 1 }),
      status: { observedReinstallGeneration: 2 },
      want: { reinstall: 2 },
    },
    {
      name: 'all three at once',
      spec: { restartGeneration: 1, reinstallGeneration: 1, rebootGeneration: 1 },
      j: journal(),
      status: {},
      want: { restart: 1, reinstall: 1, reboot: 1 },
    },
  ])('$name', ({ spec, j, status, want }) => {
    expect(remediationRequests(spec, j, status)).toEqual({
      restart: undefined,
      reinstall: undefined,
      reboot: undefined,
      ...want,
    });
  });

  it('asks exactly when spec is ahead of what was done, and once done asks no more (property)', () => {
    const gen = fc.option(fc.nat({ max: 20 }), { nil: undefined });
    fc.assert(
      fc.property(gen, gen, gen, (spec, done, reported) => {
        const j = journal({ rebootGeneration: done });
        const status = { observedRebootGeneration: reported };
        const asked = remediationRequests({ rebootGeneration: spec }, j, status).reboot;
        const baseline = done ?? reported ?? 0;
        expect(asked !== undefined).toBe(spec !== undefined && spec > baseline);
        if (asked !== undefined) {
          expect(asked).toBe(spec);
          const after = journal({ rebootGeneration: asked });
          expect(remediationRequests({ rebootGeneration: spec }, after, status).reboot).toBeUndefined();
          expect(doneGenerations(after, status).reboot).toBe(spec);
        }
      }),
    );
  });
});

describe('reboot progress', () => {
  it.each([
    { name: 'no reboot journaled', j: journal(), boot: 'a', want: { kind: 'none' } },
    {
      name: 'same boot: still pending',
      j: journal({ reboot: { generation: 2, bootIDBefore: 'a' } }),
      boot: 'a',
      want: { kind: 'pending', generation: 2 },
    },
    {
      name: 'new boot: completed',
      j: journal({ reboot: { generation: 2, bootIDBefore: 'a' } }),
      boot: 'b',
      want: { kind: 'completed', generation: 2 },
    },
  ])('$name', ({ j, boot, want }) => {
    expect(rebootProgress(j, boot)).toEqual(want);
  });
});
