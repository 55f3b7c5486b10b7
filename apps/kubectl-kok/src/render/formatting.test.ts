import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatAge, formatDuration } from './age.ts';
import { formatCell, renderList, valueAtJsonPath } from './printer-columns.ts';
import { PROGRESS_BAR_WIDTH, progressBar } from './progress-bar.ts';
import { indent, renderFields, renderTable } from './table.ts';

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;

describe('formatDuration prints ages like kubectl', () => {
  it.each([
    [0, '0s'],
    [-5 * S, '0s'],
    [45 * S, '45s'],
    [119 * S, '119s'],
    [2 * M, '2m'],
    [3 * M + 20 * S, '3m20s'],
    [10 * M + 59 * S, '10m'],
    [2 * H + 59 * M, '179m'],
    [3 * H, '3h'],
    [5 * H + 7 * M, '5h7m'],
    [47 * H, '47h'],
    [2 * D, '2d'],
    [3 * D + 4 * H, '3d4h'],
    [100 * D, '100d'],
    [800 * D, '2y'],
  ])('%i ms is %s', (milliseconds, expected) => {
    expect(formatDuration(milliseconds)).toBe(expected);
  });

  it('says <unknown> for a missing or broken timestamp', () => {
    const now = new Date('2026-01-01T00:01:00Z');
    expect(formatAge(undefined, now)).toBe('<unknown>');
    expect(formatAge('yesterday-ish', now)).toBe('<unknown>');
    expect(formatAge('2026-01-01T00:00:00Z', now)).toBe('60s');
  });
});

describe('progressBar', () => {
  it.each([
    [0, 10, '[--------------------]   0%'],
    [5, 10, '[##########----------]  50%'],
    [1, 1000, '[#-------------------]   0%'],
    [999, 1000, '[###################-]  99%'],
    [10, 10, '[####################] 100%'],
    [0, 0, '[####################] 100%'],
  ])('%i of %i is %s', (done, total, expected) => {
    expect(progressBar(done, total)).toBe(expected);
  });

  it('has a constant width, is full only when all is done and empty only when nothing is', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20_000 }), fc.nat(20_000), (total, raw) => {
        const done = raw % (total + 1);
        const bar = progressBar(done, total);
        const filled = bar.split('#').length - 1;
        expect(bar.length).toBe(PROGRESS_BAR_WIDTH + 7);
        expect(filled === PROGRESS_BAR_WIDTH).toBe(done === total);
        expect(filled === 0).toBe(done === 0);
      }),
    );
  });
});

describe('tables', () => {
  it('aligns columns with three spaces and upper-case headers, without trailing blanks', () => {
    expect(
      renderTable(
        ['Name', 'Phase', 'Note'],
        [
          ['a', 'Ready', ''],
          ['longer-name', 'Provisioning', 'x'],
        ],
      ),
    ).toBe('NAME          PHASE          NOTE\na             Ready\nlonger-name   Provisioning   x\n');
  });

  it('aligns describe fields and indents sections', () => {
    expect(
      renderFields([
        ['Name', 'w1'],
        ['Last operation', 'none'],
      ]),
    ).toBe('Name:            w1\nLast operation:  none\n');
    expect(indent('a\n\nb\n')).toBe('  a\n\n  b\n');
  });
});

describe('printer columns', () => {
  const cluster = {
    metadata: { name: 'c1', namespace: 'fleet', creationTimestamp: '2026-01-01T00:00:00Z' },
    spec: { version: 'v1.36.3' },
    status: {
      phase: 'Ready',
      conditions: [
        { type: 'Progressing', status: 'False' },
        { type: 'Available', status: 'True' },
      ],
    },
  };

  it.each([
    ['.spec.version', 'v1.36.3'],
    ['.status.phase', 'Ready'],
    ['.status.conditions[?(@.type=="Available")].status', 'True'],
    ['.status.conditions[?(@.type=="Degraded")].status', undefined],
    ['.status.endpoint', undefined],
    ['.spec.version.length', undefined],
    ['.status.conditions[0]', undefined],
  ])('%s is %s', (path, expected) => {
    expect(valueAtJsonPath(cluster, path)).toBe(expected);
  });

  it('prints <none> for missing values and ages for dates', () => {
    const now = new Date('2026-01-01T00:00:30Z');
    expect(formatCell(undefined, 'string', now)).toBe('<none>');
    expect(formatCell('', 'string', now)).toBe('<none>');
    expect(formatCell(3, 'integer', now)).toBe('3');
    expect(formatCell('2026-01-01T00:00:00Z', 'date', now)).toBe('30s');
  });

  it('shows priority columns only when wide, and a namespace column on request', () => {
    const columns = [
      { name: 'Version', type: 'string', jsonPath: '.spec.version', description: '' },
      { name: 'Phase', type: 'string', jsonPath: '.status.phase', description: '', priority: 1 },
    ] as const;
    const now = new Date('2026-01-01T00:00:30Z');
    expect(renderList([cluster], columns, { now })).toBe('NAME   VERSION\nc1     v1.36.3\n');
    expect(renderList([cluster], columns, { now, wide: true, withNamespace: true })).toBe(
      'NAMESPACE   NAME   VERSION   PHASE\nfleet       c1     v1.36.3   Ready\n',
    );
  });
});
