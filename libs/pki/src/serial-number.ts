import { randomBytes } from 'node:crypto';

/** A random positive 128-bit serial (RFC 5280: at most 20 octets, positive). */
export function randomSerialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return bytes.toString('hex');
}
