import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loopbackAddress, loopbackCapacity, LoopbackAddresses } from './loopback-addresses.ts';

describe('loopbackAddress', () => {
  it.each([
    [0, '127.1.0.1'],
    [253, '127.1.0.254'],
    [254, '127.1.1.1'],
    [254 * 256, '127.2.0.1'],
    [loopbackCapacity - 1, '127.255.255.254'],
  ])('%i → %s', (index, address) => {
    expect(loopbackAddress(index)).toBe(address);
  });

  it('rejects indexes outside the range', () => {
    expect(() => loopbackAddress(-1)).toThrow(RangeError);
    expect(() => loopbackAddress(loopbackCapacity)).toThrow(RangeError);
  });

  it('is one-to-one, inside 127.0.0.0/8 but outside 127.0.0.0/16, never a .0 or .255 host', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: loopbackCapacity - 1 }),
        fc.integer({ min: 0, max: loopbackCapacity - 1 }),
        (a, b) => {
          const address = loopbackAddress(a);
          const octets = address.split('.').map(Number);
          expect(octets[0]).toBe(127);
          expect(octets[1]).toBeGreaterThanOrEqual(1);
          expect(octets[3]).toBeGreaterThanOrEqual(1);
          expect(octets[3]).toBeLessThanOrEqual(254);
          expect(address === loopbackAddress(b)).toBe(a === b);
        },
      ),
    );
  });
});

describe('LoopbackAddresses', () => {
  it('gives each live key its own address, stable until released, and reuses released ones', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom('acquire', 'release'), fc.integer({ min: 0, max: 20 })), {
          maxLength: 200,
        }),
        (operations) => {
          const addresses = new LoopbackAddresses();
          const held = new Map<string, string>();
          for (const [operation, n] of operations) {
            const key = `pod-${n}`;
            if (operation === 'release') {
              addresses.release(key);
              held.delete(key);
              continue;
            }
            const address = addresses.acquire(key);
            if (held.has(key)) expect(address).toBe(held.get(key));
            held.set(key, address);
            expect(new Set(held.values()).size).toBe(held.size);
          }
        },
      ),
    );
  });
});
