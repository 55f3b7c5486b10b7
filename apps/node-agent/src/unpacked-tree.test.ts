import { describe, expect, it } from 'vitest';
import { safeMode } from './unpacked-tree.ts';

describe('safeMode', () => {
  it.each([
    [0o755, 0o755],
    [0o644, 0o644],
    [0o4755, 0o755],
    [0o2755, 0o755],
    [0o1777, 0o775],
    [0o777, 0o775],
    [0o666, 0o664],
    [0o700, 0o700],
  ])('%o → %o', (mode, expected) => expect(safeMode(mode)).toBe(expected));
});
