import { describe, expect, it } from 'vitest';

describe('runtime', () => {
  it('runs on the pinned Node.js 24 LTS, not the machine Node.js', () => {
    const major = Number(process.versions.node.split('.')[0]);
    expect(major).toBe(24);
  });
});
