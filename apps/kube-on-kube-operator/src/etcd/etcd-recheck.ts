import type { EtcdObservation } from './member-observation.ts';
import { REFRESH_MS } from './member-observation.ts';

/** While etcd's membership moves toward spec.etcd.replicas: look again this often. */
export const MEMBERSHIP_RECHECK_MS = 3_000;
/** An etcd the operator runs is read at least this often: its free space and alarms change with no Kubernetes event. */
export const ETCD_RECHECK_MS = 60_000;

export interface EtcdRecheckInputs {
  /** A membership step was taken or is waiting on etcd, or a member was just defragmented. */
  moving: boolean;
  /** The read of etcd this pass used (possibly up to REFRESH_MS old). */
  observation: EtcdObservation;
  /** The etcd StatefulSet has fewer pods Ready than it wants. */
  podsNotReady: boolean;
}

/**
 * When to look at a Cluster's etcd again. A member down or a pod not Ready is read again as soon as the
 * last read expires: a crash-looping member (its data lost) changes no object the operator watches, and
 * the read this pass used may predate the loss, so waiting for the next minute would delay its replacement.
 */
export function etcdRecheckAfterMs({ moving, observation, podsNotReady }: EtcdRecheckInputs): number {
  if (moving) return MEMBERSHIP_RECHECK_MS;
  if (podsNotReady || observation.members.some((member) => !member.healthy)) return REFRESH_MS;
  return ETCD_RECHECK_MS;
}
