import { describe, expect, it } from 'vitest';
import { isNewerMinor, parseMinorVersion } from './kubernetes-version.ts';

describe('parseMinorVersion', () => {
  it.each([
    ['v1.36.3', { major: 1, minor: 36 }],
    ['1.36.3', { major: 1, minor: 36 }],
    ['v1.36.0-rc.1+abc', { major: 1, minor: 36 }],
    ['v1.34.0-kwok', { major: 1, minor: 34 }],
    ['v2.0.1', { major: 2, minor: 0 }],
    ['v1', undefined],
    ['latest', undefined],
    ['v1.36x.0', undefined],
  ])('%s → %o', (version, parsed) => expect(parseMinorVersion(version)).toEqual(parsed));

  // The kubelet skew check had a parser of its own that took these; the upgrade rule's did not.
  // Every version field's schema rejects them, and so does the one parser now.
  it.each(['1.36', 'v1.36', ' v1.36.3', 'v1.36-rc.1', '1.36+abc'])(
    'does not take %j, which is not a version of three parts',
    (version) => expect(parseMinorVersion(version)).toBeUndefined(),
  );
});

describe('isNewerMinor', () => {
  it.each([
    ['v1.36.3', 'v1.37.0', true],
    ['v1.36.3', 'v2.0.0', true],
    ['v1.36.3', 'v1.36.9', false],
    ['v1.36.3', 'v1.36.3', false],
    ['v1.37.0', 'v1.36.3', false],
    ['latest', 'v1.37.0', false],
    ['v1.36.3', 'latest', false],
  ])('%s → %s: %s', (from, to, newer) => expect(isNewerMinor(from, to)).toBe(newer));
});
