/**
 * When a leaf certificate is renewed. Pure. A leaf is due once less than
 * `renewBefore` of its life remains; by default that is a third of the
 * validity the operator issues with, at most 30 days (so a 365-day leaf is
 * renewed 30 days before expiry, a 90-second test leaf 30 s before).
 */

const DAY_MS = 24 * 60 * 60 * 1000;

/** kubeadm's leaf validity. */
export const DEFAULT_LEAF_VALIDITY_MS = 365 * DAY_MS;
/** The most a leaf is renewed ahead of its expiry by default (HyperShift's window). */
const MAX_DEFAULT_RENEW_BEFORE_MS = 30 * DAY_MS;

/**
 * How long before expiry a leaf is renewed. An explicit value is capped at
 * half the validity, so a freshly issued leaf is never due at once (which would
 * reissue it on every reconcile).
 */
export function renewBeforeMs(validityMs: number, explicitMs?: number): number {
  if (explicitMs !== undefined) return Math.min(explicitMs, validityMs / 2);
  return Math.min(MAX_DEFAULT_RENEW_BEFORE_MS, validityMs / 3);
}

/** When a leaf expiring at `notAfter` is due. */
export function renewalTime(notAfter: Date, renewBefore: number): Date {
  return new Date(notAfter.getTime() - renewBefore);
}

/**
 * Whether a leaf expiring at `notAfter` is reissued now. A leaf never outlives
 * its CA, so one that already ends with its CA is not reissued for expiry:
 * only a CA rotation helps it (status.certificates.caNotAfter shows that).
 */
export function isRenewalDue(notAfter: Date, caNotAfter: Date, now: Date, renewBefore: number): boolean {
  return caNotAfter > notAfter && now >= renewalTime(notAfter, renewBefore);
}
