/**
 * When the agent's client certificate must be replaced: pure. Like the
 * kubelet's certificate manager, a certificate is renewed at a random point
 * between 70 % and 90 % of its life, so that a fleet booted together does not
 * renew together, and long before it stops working.
 */
import { nodeAgentUser } from '@kok/api/core';

/** What the agent reads from its current certificate. */
export interface CertificateFacts {
  commonName: string | undefined;
  notBefore: Date;
  notAfter: Date;
}

export type CredentialVerdict =
  /** Use it, and ask for the next one at renewAt (may be now). */
  | { usable: true; renewAt: Date }
  /** Ask for a new one with the bootstrap credential first. */
  | { usable: false; reason: string };

/** `jitter` in [0, 1): where between 70 % and 90 % of the certificate's life the renewal falls. */
export function renewalTime(facts: CertificateFacts, jitter: number): Date {
  const life = facts.notAfter.getTime() - facts.notBefore.getTime();
  return new Date(facts.notBefore.getTime() + life * (0.7 + 0.2 * Math.min(Math.max(jitter, 0), 1)));
}

export function judgeCredential(
  facts: CertificateFacts | undefined,
  machine: string,
  now: Date,
  jitter: number,
): CredentialVerdict {
  if (!facts) return { usable: false, reason: 'no client certificate yet' };
  const user = nodeAgentUser(machine);
  if (facts.commonName !== user)
    return { usable: false, reason: `the certificate is for ${facts.commonName ?? '(no CN)'}, not ${user}` };
  if (now >= facts.notAfter)
    return { usable: false, reason: `the certificate expired at ${facts.notAfter.toISOString()}` };
  if (now < facts.notBefore)
    return { usable: false, reason: `the certificate is not valid before ${facts.notBefore.toISOString()}` };
  const renewAt = renewalTime(facts, jitter);
  return { usable: true, renewAt: renewAt < now ? now : renewAt };
}
