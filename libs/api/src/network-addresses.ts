/**
 * IP addresses and CIDRs as the Kubernetes CEL libraries read them (`isIP`,
 * `isCIDR`, `cidr().containsCIDR`): the TypeScript twins of the schema rules,
 * also used where the operators turn such strings into certificates and flags.
 */
import { isIP } from 'node:net';

/**
 * True for `10.0.0.1` or `fd00::1`. Like CEL `isIP`, refuses what Node.js
 * accepts but Go's netip does not take for a plain address: a zone (`fe80::1%eth0`)
 * and an IPv4-mapped IPv6 address (`::ffff:10.0.0.1`).
 */
export function isIpAddress(value: string): boolean {
  if (isIP(value) === 0 || value.includes('%')) return false;
  return !/^::ffff:[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$/i.test(value);
}

/** True for `10.96.0.0/12` or `fd00::/108`: an IP address and a prefix length that fits it. */
export function isCidr(value: string): boolean {
  const slash = value.indexOf('/');
  if (slash < 0) return false;
  const address = value.slice(0, slash);
  const prefix = value.slice(slash + 1);
  if (!isIpAddress(address) || !/^(0|[1-9][0-9]{0,2})$/.test(prefix)) return false;
  return Number(prefix) <= (isIP(address) === 4 ? 32 : 128);
}

interface Range {
  readonly family: 4 | 6;
  readonly first: bigint;
  readonly last: bigint;
}

function ipv6Value(address: string): bigint {
  let text = address;
  // An embedded IPv4 tail (64:ff9b::10.0.0.1) is two 16-bit groups.
  const dotted = /([0-9]+)\.([0-9]+)\.([0-9]+)\.([0-9]+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
  const missing = 8 - headGroups.length - tailGroups.length;
  const groups = [...headGroups, ...Array<string>(tail === undefined ? 0 : missing).fill('0'), ...tailGroups];
  return groups.reduce((value, group) => (value << 16n) | BigInt(Number.parseInt(group, 16)), 0n);
}

function rangeOf(cidr: string): Range {
  const [address = '', prefixText = ''] = cidr.split('/');
  const family = isIP(address) === 4 ? 4 : 6;
  const bits = family === 4 ? 32n : 128n;
  const value =
    family === 4
      ? address.split('.').reduce((acc, octet) => (acc << 8n) | BigInt(Number(octet)), 0n)
      : ipv6Value(address);
  const hostBits = bits - BigInt(Number(prefixText));
  const first = (value >> hostBits) << hostBits;
  return { family, first, last: first + (1n << hostBits) - 1n };
}

/**
 * True when two CIDRs share an address. Like CEL `containsCIDR` in either
 * direction: ranges of different families never overlap. Both must be CIDRs.
 */
export function cidrsOverlap(a: string, b: string): boolean {
  const x = rangeOf(a);
  const y = rangeOf(b);
  return x.family === y.family && x.first <= y.last && y.first <= x.last;
}
