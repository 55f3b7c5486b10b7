import { describe, expect, it } from 'vitest';
import type { AddonPassRecord } from './addon-pacing.ts';
import { addonsStep } from './addon-pacing.ts';

const record = (over: Partial<AddonPassRecord> = {}): AddonPassRecord => ({
  hash: 'h1',
  at: 1_000_000,
  ready: true,
  applied: 'h1',
  ...over,
});

describe('addonsStep', () => {
  it.each([
    [
      'a first pass (or a restarted operator) with the control plane settled',
      undefined,
      'h1',
      true,
      0,
      { kind: 'run' },
    ],
    [
      'a first pass while the control plane moves',
      undefined,
      'h1',
      false,
      0,
      { kind: 'waitForControlPlane' },
    ],
    [
      'a new bundle (an upgrade) before the control plane is done',
      record(),
      'h2',
      false,
      5,
      { kind: 'waitForControlPlane' },
    ],
    ['a new bundle once the control plane is done', record(), 'h2', true, 5, { kind: 'run' }],
    ['ready, read 30 s ago', record(), 'h1', true, 30_000, { kind: 'wait', ms: 30_000 }],
    ['ready, read a minute ago', record(), 'h1', true, 60_000, { kind: 'run' }],
    ['rolling out, read 4 s ago', record({ ready: false }), 'h1', true, 4_000, { kind: 'wait', ms: 6_000 }],
    ['failed, 10 s ago', record({ ready: false, applied: undefined }), 'h1', true, 10_000, { kind: 'run' }],
    // The same bundle keeps being passed over while a control-plane pod restarts: it is what runs.
    [
      'the same bundle while the control plane is not settled',
      record(),
      'h1',
      false,
      60_000,
      { kind: 'run' },
    ],
  ] as const)('%s', (_, last, hash, settled, sinceLast, step) => {
    expect(addonsStep(last, hash, settled, 1_000_000 + sinceLast)).toEqual(step);
  });
});
