/** What an approval policy says about one CertificateSigningRequest. */
export type CsrDecision =
  | { verdict: 'approve'; machine: string; message: string }
  | { verdict: 'deny'; machine: string | undefined; message: string }
  | { verdict: 'ignore'; message: string };

export interface DecisionOptions {
  /**
   * The caller sees only some Machines (the operator runs with a label
   * selector): a CSR whose Machine it does not see may belong to another
   * operator, so it is left alone instead of denied.
   */
  partialMachineView?: boolean;
}
