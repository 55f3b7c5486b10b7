/**
 * When the add-ons' pass runs for a Cluster. A new bundle (another version,
 * an add-on switched, another address) moves only once every control-plane
 * component is Available at spec.version; otherwise the pass runs every 10 s
 * while they roll out or fail, and every minute once ready (each pass applies
 * again, which puts back what someone changed). Pure.
 */

/** How often the add-ons are passed over while they roll out (or failed), and once they are ready. */
export const ADDONS_ROLLING_RECHECK_MS = 10_000;
export const ADDONS_READY_RECHECK_MS = 60_000;

/** The last pass of a Cluster's add-ons in this operator process. */
export interface AddonPassRecord {
  /** The bundle it ran. */
  readonly hash: string;
  readonly at: number;
  readonly ready: boolean;
  /** The last bundle a pass applied without an error (what the event announced). */
  readonly applied: string | undefined;
}

export type AddonsStep =
  | { readonly kind: 'waitForControlPlane' }
  | { readonly kind: 'wait'; readonly ms: number }
  | { readonly kind: 'run' };

export function addonsStep(
  last: AddonPassRecord | undefined,
  hash: string,
  controlPlaneSettled: boolean,
  now: number,
): AddonsStep {
  if (last?.hash !== hash) return controlPlaneSettled ? { kind: 'run' } : { kind: 'waitForControlPlane' };
  const due = last.at + (last.ready ? ADDONS_READY_RECHECK_MS : ADDONS_ROLLING_RECHECK_MS);
  return due > now ? { kind: 'wait', ms: due - now } : { kind: 'run' };
}
