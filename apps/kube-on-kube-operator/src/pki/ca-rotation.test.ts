import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CaRotationPhase, CaRotationState } from './ca-rotation.ts';
import { compareStates, NEVER_ROTATED, planCaRotation } from './ca-rotation.ts';

const at = (generation: number, phase: CaRotationPhase): CaRotationState => ({ generation, phase });
const three = (state: CaRotationState) => [state, state, state];

describe('planCaRotation', () => {
  it.each([
    ['a new PKI is made at the asked-for generation', 2, [], true, at(2, 'Completed'), false],
    ['nothing asked, nothing moves', 0, three(NEVER_ROTATED), true, NEVER_ROTATED, false],
    ['a rotation asked for starts once settled', 1, three(NEVER_ROTATED), true, at(1, 'TrustingNewCA'), true],
    ['a rotation asked for waits while consumers roll', 1, three(NEVER_ROTATED), false, NEVER_ROTATED, false],
    [
      'trust both → reissue, once settled',
      1,
      three(at(1, 'TrustingNewCA')),
      true,
      at(1, 'ReissuingLeaves'),
      true,
    ],
    [
      'trust both holds while consumers roll',
      1,
      three(at(1, 'TrustingNewCA')),
      false,
      at(1, 'TrustingNewCA'),
      false,
    ],
    ['reissue → remove the old CA', 1, three(at(1, 'ReissuingLeaves')), true, at(1, 'RemovingOldCA'), true],
    ['remove → completed', 1, three(at(1, 'RemovingOldCA')), true, at(1, 'Completed'), true],
    ['completed stays completed', 1, three(at(1, 'Completed')), true, at(1, 'Completed'), false],
    [
      'a later generation starts the next rotation',
      2,
      three(at(1, 'Completed')),
      true,
      at(2, 'TrustingNewCA'),
      true,
    ],
    [
      'a generation bumped mid-rotation waits for this one to finish',
      3,
      three(at(1, 'ReissuingLeaves')),
      true,
      at(1, 'RemovingOldCA'),
      true,
    ],
    [
      'a CA behind the others (write cut short) catches up first, settled or not',
      1,
      [at(1, 'ReissuingLeaves'), at(1, 'TrustingNewCA'), at(1, 'TrustingNewCA')],
      true,
      at(1, 'ReissuingLeaves'),
      false,
    ],
    [
      'a CA that missed the start of a rotation catches up',
      1,
      [at(1, 'TrustingNewCA'), NEVER_ROTATED, NEVER_ROTATED],
      true,
      at(1, 'TrustingNewCA'),
      false,
    ],
    [
      'a lower generation than recorded rotates nothing',
      0,
      three(at(4, 'Completed')),
      true,
      at(4, 'Completed'),
      false,
    ],
  ] as const)('%s', (_name, desiredGeneration, cas, settled, target, advanced) => {
    const plan = planCaRotation({ desiredGeneration, cas, settled });
    expect(plan.target).toEqual(target);
    expect(plan.advanced).toBe(advanced);
  });

  it('says what a rotation waits for', () => {
    expect(
      planCaRotation({ desiredGeneration: 1, cas: three(NEVER_ROTATED), settled: false }).waiting,
    ).toMatch(/CA rotation 1 waits for the control plane/);
    expect(
      planCaRotation({ desiredGeneration: 1, cas: three(at(1, 'TrustingNewCA')), settled: false }).waiting,
    ).toMatch(/TrustingNewCA: waiting for every consumer/);
  });
});

const phase = fc.constantFrom<CaRotationPhase>(
  'TrustingNewCA',
  'ReissuingLeaves',
  'RemovingOldCA',
  'Completed',
);
const state = fc.record({ generation: fc.integer({ min: 0, max: 5 }), phase });

describe('planCaRotation properties', () => {
  it('never moves backwards and advances at most one phase past where every CA stood', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 6 }),
        fc.array(state, { minLength: 1, maxLength: 3 }),
        fc.boolean(),
        (desired, cas, settled) => {
          const plan = planCaRotation({ desiredGeneration: desired, cas, settled });
          const newest = cas.reduce((a, b) => (compareStates(a, b) >= 0 ? a : b));
          expect(compareStates(plan.target, newest)).toBeGreaterThanOrEqual(0);
          if (!settled) expect(plan.advanced).toBe(false);
          if (!plan.advanced) expect(plan.target).toEqual(newest);
          else expect(cas.every((ca) => compareStates(ca, newest) === 0)).toBe(true);
        },
      ),
    );
  });

  it('walks every phase in order from a bump to Completed when each step settles', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 9 }), (desired) => {
        let cas: CaRotationState[] = three(NEVER_ROTATED);
        const seen: string[] = [];
        for (let step = 0; step < 10; step++) {
          const plan = planCaRotation({ desiredGeneration: desired, cas, settled: true });
          if (!plan.advanced) break;
          seen.push(plan.target.phase);
          cas = three(plan.target);
        }
        expect(seen).toEqual(['TrustingNewCA', 'ReissuingLeaves', 'RemovingOldCA', 'Completed']);
        expect(cas[0]).toEqual({ generation: desired, phase: 'Completed' });
      }),
    );
  });
});
