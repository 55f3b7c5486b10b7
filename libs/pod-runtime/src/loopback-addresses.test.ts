import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loopbackAddress, loopbackCapacity, LoopbackAddresses } from './loopback-addresses.ts';

describe('loopbackAddress', () => {
  it.each([
    [0, 1, '127.1.0.1'],
    [253, 1, '127.1.0.254'],
    [254, 1, '127.1.1.1'],
    [0, 2, '127.2.0.1'],
    [loopbackCapacity - 1, 255, '127.255.255.254'],
  ])('%i in block %i → %s', (index, block, address) => {
    expect(loopbackAddress(index, block)).toBe(address);
  });

  it('rejects indexes and blocks outside the range', () => {
    expect(() => loopbackAddress(-1)).toThrow(RangeError);
    expect(() => loopbackAddress(loopbackCapacity)).toThrow(RangeError);
    expect(() => loopbackAddress(0, 0)).toThrow(RangeError);
    expect(() => loopbackAddress(0, 256)).toThrow(RangeError);
  });

  it('is one-to-one, inside 127.0.0.0/8 but outside 127.0.0.0/16, never a .0 or .255 host', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: loopbackCapacity - 1 }),
        fc.integer({ min: 0, max: loopbackCapacity - 1 }),
        fc.integer({ min: 1, max: 255 }),
        fc.integer({ min: 1, max: 255 }),
        (a, b, blockA, blockB) => {
          const address = loopbackAddress(a, blockA);
          const octets = address.split('.').map(Number);
          expect(octets[0]).toBe(127);
          expect(octets[1]).toBe(blockA);
          expect(octets[3]).toBeGreaterThanOrEqual(1);
          expect(octets[3]).toBeLessThanOrEqual(254);
          expect(address === loopbackAddress(b, blockB)).toBe(a === b && blockA === blockB);
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
          const addresses = new LoopbackAddresses(7);
          const held = new Map<string, string>();
          for (const [operation, n] of operations) {
            const key = `pod-${n}`;
            if (operation === 'release') {
              addresses.release(key);
              held.delete(key);
              continue;
            }
            const address = addresses.acquire(key);
            expect(address.startsWith('127.7.')).toBe(true);
            if (held.has(key)) expect(address).toBe(held.get(key));
            held.set(key, address);
            expect(new Set(held.values()).size).toBe(held.size);
          }
        },
      ),
    );
  });
});
