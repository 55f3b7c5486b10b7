import { describe, expect, it } from 'vitest';
import { clusterDnsIP, firstServiceIP } from './network.ts';

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

describe('clusterDnsIP', () => {
  it.each([
    ['10.96.0.0/12', '10.96.0.10'],
    ['172.16.0.0/24', '172.16.0.10'],
    ['fd00::/108', 'fd00::a'],
  ])('%s → %s', (cidr, ip) => {
    expect(clusterDnsIP(cidr)).toBe(ip);
  });

  it('refuses a range too small to hold it', () => {
    expect(() => clusterDnsIP('10.96.0.0/29')).toThrow(/no address number 10/);
  });
});
