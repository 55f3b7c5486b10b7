import { describe, expect, it } from 'vitest';
import { restartPolicyOf, restartsAfterExit } from './restart-policy.ts';

describe('restartsAfterExit', () => {
  it.each([
    ['Always', 0, true],
    ['Always', 1, true],
    ['OnFailure', 0, false],
    ['OnFailure', 1, true],
    ['OnFailure', 137, true],
    ['Never', 0, false],
    ['Never', 2, false],
  ] as const)('%s after exit %i → %s', (policy, exitCode, restarts) => {
    expect(restartsAfterExit(policy, exitCode)).toBe(restarts);
  });
});

describe('restartPolicyOf', () => {
  it.each([
    [undefined, 'Always'],
    ['Always', 'Always'],
    ['OnFailure', 'OnFailure'],
    ['Never', 'Never'],
    ['never', 'Always'],
  ])('%s → %s', (value, policy) => {
    expect(restartPolicyOf(value)).toBe(policy);
  });
});
