import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { judgeCredential, renewalTime } from './credential-renewal.ts';

const HOUR = 3600_000;
const issued = new Date('2026-12-01T00:00:00Z');
const facts = (commonName = 'system:node-agent:w1', lifeHours = 24) => ({
  commonName,
  notBefore: issued,
  notAfter: new Date(issued.getTime() + lifeHours * HOUR),
});
const at = (hours: number) => new Date(issued.getTime() + hours * HOUR);

describe('judgeCredential', () => {
  it.each([
    ['no certificate', undefined, at(1), 'no client certificate yet'],
    [
      "another Machine's certificate",
      facts('system:node-agent:w2'),
      at(1),
      'is for system:node-agent:w2, not system:node-agent:w1',
    ],
    ['an expired one', facts(), at(24), 'expired at 2026-12-02T00:00:00.000Z'],
    ['one from the future (a clock behind)', facts(), at(-1), 'not valid before'],
  ])('asks for a new certificate with the bootstrap credential for %s', (_, given, now, reason) => {
    const verdict = judgeCredential(given, 'w1', now, 0.5);
    expect(verdict.usable).toBe(false);
    if (!verdict.usable) expect(verdict.reason).toContain(reason);
  });

  it('uses a valid certificate and renews it at 80 % of its life for a middle jitter', () => {
    expect(judgeCredential(facts(), 'w1', at(1), 0.5)).toEqual({ usable: true, renewAt: at(19.2) });
  });

  it('renews at once a certificate already past its renewal time, while it still works', () => {
    expect(judgeCredential(facts(), 'w1', at(23), 0.5)).toEqual({ usable: true, renewAt: at(23) });
  });
});

describe('renewalTime', () => {
  it('falls between 70 % and 90 % of the life, for any jitter and lifetime', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.integer({ min: 1, max: 24 * 7 }),
        (jitter, hours) => {
          const time = renewalTime(facts('x', hours), jitter).getTime();
          expect(time).toBeGreaterThanOrEqual(issued.getTime() + 0.7 * hours * HOUR - 1);
          expect(time).toBeLessThanOrEqual(issued.getTime() + 0.9 * hours * HOUR + 1);
        },
      ),
    );
  });
});
