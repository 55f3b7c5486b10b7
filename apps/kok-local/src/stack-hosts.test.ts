import { describe, expect, it } from 'vitest';
import { nextPatchAliases } from './stack-hosts.ts';

describe('nextPatchAliases', () => {
  it('serves the next patch of each build with that build, unless it is built itself', () => {
    expect(nextPatchAliases(['v1.36.3', 'v1.35.4'])).toEqual({ 'v1.36.4': 'v1.36.3', 'v1.35.5': 'v1.35.4' });
    expect(nextPatchAliases(['v1.36.3', 'v1.36.4'])).toEqual({ 'v1.36.5': 'v1.36.4' });
    expect(nextPatchAliases(['v1.36.4-rc.0'])).toEqual({});
  });
});
