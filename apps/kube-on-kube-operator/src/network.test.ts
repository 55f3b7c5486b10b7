import { describe, expect, it } from 'vitest';
import { firstServiceIP } from './network.ts';

describe('firstServiceIP', () => {
  it.each([
    ['10.96.0.0/12', '10.96.0.1'],
    ['10.100.7.9/16', '10.100.0.1'],
    ['172.16.0.0/24', '172.16.0.1'],
    ['fd00::/108', 'fd00::1'],
    ['fd00:10:96::/112', 'fd00:10:96::1'],
  ])('%s → %s', (cidr, ip) => {
    expect(firstServiceIP(cidr)).toBe(ip);
  });

  it('refuses what is not a CIDR', () => {
    expect(() => firstServiceIP('10.96.0.0')).toThrow(/not a CIDR/);
  });
});
