/** The status the runtime reports for a pod, from what its processes are doing. Pure. */
import type { V1ContainerStatus, V1PodCondition, V1PodStatus } from '@kubernetes/client-node';

/** What the runtime knows about one container. */
export interface ContainerState {
  readonly name: string;
  readonly image: string;
  /** Set while its process runs. */
  readonly startedAt?: Date;
  /** Why it is not running (`ContainerCreating`, `CrashLoopBackOff`, `CreateContainerConfigError`). */
  readonly waiting?: { readonly reason: string; readonly message?: string };
  readonly lastExit?: { readonly exitCode: number; readonly finishedAt: Date };
  readonly ready: boolean;
  readonly restartCount: number;
}

export interface PodState {
  readonly podIP: string;
  readonly hostIP: string;
  readonly startTime: Date;
  readonly containers: readonly ContainerState[];
}

/**
 * Phase Running once every container's process has started (Pending before),
 * Ready and ContainersReady when every container passes its readiness probe.
 * `previous` keeps lastTransitionTime of conditions whose status holds.
 */
export function podStatus(state: PodState, previous: V1PodStatus | undefined, now: Date): V1PodStatus {
  const allStarted = state.containers.every((c) => c.startedAt);
  const allReady = state.containers.length > 0 && state.containers.every((c) => c.ready);
  const condition = (type: string, ok: boolean, reason?: string): V1PodCondition => {
    const status = ok ? 'True' : 'False';
    const before = previous?.conditions?.find((c) => c.type === type);
    return {
      type,
      status,
      lastTransitionTime:
        before?.status === status && before.lastTransitionTime ? before.lastTransitionTime : now,
      ...(reason && !ok ? { reason } : {}),
    };
  };
  const containerStatuses: V1ContainerStatus[] = state.containers.map((c) => ({
    name: c.name,
    image: c.image,
    imageID: '',
    ready: c.ready,
    started: !!c.startedAt,
    restartCount: c.restartCount,
    state: c.startedAt
      ? { running: { startedAt: c.startedAt } }
      : {
          waiting: {
            reason: c.waiting?.reason ?? 'ContainerCreating',
            ...(c.waiting?.message ? { message: c.waiting.message } : {}),
          },
        },
    ...(c.lastExit
      ? { lastState: { terminated: { exitCode: c.lastExit.exitCode, finishedAt: c.lastExit.finishedAt } } }
      : {}),
  }));
  return {
    phase: allStarted ? 'Running' : 'Pending',
    podIP: state.podIP,
    podIPs: [{ ip: state.podIP }],
    hostIP: state.hostIP,
    hostIPs: [{ ip: state.hostIP }],
    startTime: previous?.startTime ?? state.startTime,
    conditions: [
      condition('PodScheduled', true),
      condition('Initialized', true),
      condition('ContainersReady', allReady, 'ContainersNotReady'),
      condition('Ready', allReady, 'ContainersNotReady'),
    ],
    containerStatuses,
  };
}

/** Whether reporting `next` would change what the apiserver shows (timestamps of unchanged conditions aside): status is written only then. */
export function statusChanged(current: V1PodStatus | undefined, next: V1PodStatus): boolean {
  const comparable = (status: V1PodStatus | undefined) =>
    JSON.stringify({
      phase: status?.phase,
      podIP: status?.podIP,
      conditions: (status?.conditions ?? []).map((c) => [c.type, c.status]),
      containers: (status?.containerStatuses ?? []).map((c) => [
        c.name,
        c.ready,
        c.started,
        c.restartCount,
        Object.keys(c.state ?? {})[0],
        c.state?.waiting?.reason,
        c.state?.waiting?.message,
      ]),
    });
  return comparable(current) !== comparable(next);
}
