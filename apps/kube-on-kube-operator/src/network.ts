import { isIP } from 'node:net';

/**
 * The first address of a service CIDR: the ClusterIP of the biz-cluster's
 * `kubernetes` Service, which must be in the apiserver serving certificate.
 */
export function firstServiceIP(cidr: string): string {
  return serviceIP(cidr, 1);
}

/** The tenth address of a service CIDR: the ClusterIP of kube-dns, as kubeadm picks it. */
export function clusterDnsIP(cidr: string): string {
  return serviceIP(cidr, 10);
}

function serviceIP(cidr: string, offset: number): string {
  const [address = '', prefixText = ''] = cidr.split('/');
  const family = isIP(address);
  const prefix = Number(prefixText);
  const bits = family === 4 ? 32 : 128;
  if (family === 0 || !/^\d{1,3}$/.test(prefixText) || prefix > bits)
    throw new Error(`"${cidr}" is not a CIDR`);
  if (BigInt(offset) >= 1n << BigInt(bits - prefix))
    throw new Error(`"${cidr}" has no address number ${offset}`);
  const network =
    toBigInt(address, family) & (((1n << BigInt(bits)) - 1n) ^ ((1n << BigInt(bits - prefix)) - 1n));
  return fromBigInt(network + BigInt(offset), family);
}

function toBigInt(address: string, family: number): bigint {
  if (family === 4) return address.split('.').reduce((acc, octet) => (acc << 8n) | BigInt(Number(octet)), 0n);
  const [head = '', tail] = address.split('::');
  const groups = (part: string) => (part ? part.split(':') : []);
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  const all = [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return all.reduce((acc, group) => (acc << 16n) | BigInt(parseInt(group, 16)), 0n);
}

function fromBigInt(value: bigint, family: number): string {
  if (family === 4) return [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 255n)).join('.');
  const groups = Array.from({ length: 8 }, (_, i) =>
    ((value >> BigInt(112 - 16 * i)) & 0xffffn).toString(16),
  );
  // Compress the longest run of zero groups, as RFC 5952 writes addresses.
  let best = { start: -1, length: 0 };
  for (let i = 0; i < 8;) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > best.length && j - i > 1) best = { start: i, length: j - i };
    i = j;
  }
  if (best.start < 0) return groups.join(':');
  return `${groups.slice(0, best.start).join(':')}::${groups.slice(best.start + best.length).join(':')}`;
}
