/** When a certificate is valid: from `now` minus a small backdate, for `days`. */
export interface Validity {
  /** Days the certificate is valid. */
  readonly days: number;
  /** The issuing time; defaults to the current time. Tests pass a fixed clock. */
  readonly now?: Date;
}

// Backdated so that a peer whose clock runs slightly behind still accepts a
// certificate issued a moment ago.
const backdateMs = 5 * 60 * 1000;
const dayMs = 24 * 60 * 60 * 1000;

export function validityWindow({ days, now = new Date() }: Validity): { notBefore: Date; notAfter: Date } {
  if (!Number.isFinite(days) || days <= 0)
    throw new Error(`certificate validity must be a positive number of days, got ${days}`);
  return {
    notBefore: new Date(now.getTime() - backdateMs),
    notAfter: new Date(now.getTime() + days * dayMs),
  };
}
