import type { EtcdObservation } from './member-observation.ts';
import { REFRESH_MS } from './member-observation.ts';

/** While etcd's membership moves toward spec.etcd.replicas: look again this often. */
export const MEMBERSHIP_RECHECK_MS = 3_000;
/** An etcd the operator runs is read at least this often: its free space and alarms change with no Kubernetes event. */
export const ETCD_RECHECK_MS = 60_000;
/**
 * How long a troubled etcd (a member down, a pod not Ready) is read at every REFRESH_MS. Past it the trouble
 * is not passing (a member on a lost node, a claim that cannot bind): each read costs a timeout per silent
 * member, and a node failure troubles many Clusters at once, so they go back to ETCD_RECHECK_MS.
 */
export const TROUBLE_FAST_RECHECK_MS = 3 * 60_000;

export interface EtcdRecheckInputs {
  /** A membership step was taken or is waiting on etcd, or a member was just defragmented. */
  moving: boolean;
  /** The read of etcd this pass used (possibly up to REFRESH_MS old). */
  observation: EtcdObservation;
  /** The etcd StatefulSet has fewer pods Ready than it wants. */
  podsNotReady: boolean;
  /** How long this Cluster's etcd has been troubled without a break, as this operator saw it (0: since now). */
  troubledForMs: number;
}

/** A member does not answer, or a pod is not Ready: the read this pass used may predate the loss. */
export function isEtcdTroubled({
  observation,
  podsNotReady,
}: Pick<EtcdRecheckInputs, 'observation' | 'podsNotReady'>): boolean {
  return podsNotReady || observation.members.some((member) => !member.healthy);
}

/**
 * When to look at a Cluster's etcd again. A fresh trouble is read again as soon as the last read expires:
 * a crash-looping member (its data lost) changes no object the operator watches, so waiting for the
 * next minute would delay its replacement. A lasting one is read at the healthy pace.
 */
export function etcdRecheckAfterMs(inputs: EtcdRecheckInputs): number {
  if (inputs.moving) return MEMBERSHIP_RECHECK_MS;
  if (isEtcdTroubled(inputs) && inputs.troubledForMs < TROUBLE_FAST_RECHECK_MS) return REFRESH_MS;
  return ETCD_RECHECK_MS;
}

/** When each Cluster's etcd was first seen troubled in its current stretch of trouble, as this operator saw it. */
export class EtcdTroubleRecord {
  readonly #since = new Map<string, number>();

  /** How long `key`'s etcd has been troubled, counted from the first pass that saw it; 0 (and forgotten) once it is not. */
  troubledForMs(key: string, troubled: boolean, now: Date): number {
    if (!troubled) {
      this.#since.delete(key);
      return 0;
    }
    const since = this.#since.get(key) ?? now.getTime();
    this.#since.set(key, since);
    return now.getTime() - since;
  }
}
