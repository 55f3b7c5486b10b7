/** The status the runtime reports for a pod, from what its processes are doing. Pure. */
import type {
  V1ContainerStateTerminated,
  V1ContainerStatus,
  V1PodCondition,
  V1PodStatus,
} from '@kubernetes/client-node';

/** What the runtime knows about one container. */
export interface ContainerState {
  readonly name: string;
  readonly image: string;
  /** Set while its process runs. */
  readonly startedAt?: Date;
  /** Why it is not running (`ContainerCreating`, `CrashLoopBackOff`, `CreateContainerConfigError`). */
  readonly waiting?: { readonly reason: string; readonly message?: string };
  readonly lastExit?: { readonly exitCode: number; readonly finishedAt: Date };
  /** Set once its process exited and its restart policy does not start it again. */
  readonly terminated?: ContainerTermination;
  readonly ready: boolean;
  readonly restartCount: number;
}

export interface ContainerTermination {
  readonly exitCode: number;
  readonly startedAt?: Date;
  readonly finishedAt: Date;
  /** The tail of its log, for a failed container that asks for it (termination-message.ts). */
  readonly message?: string;
}

export interface PodState {
  readonly podIP: string;
  readonly hostIP: string;
  readonly startTime: Date;
  readonly containers: readonly ContainerState[];
}

/**
 * The phase by the kubelet's rules: Succeeded once every container terminated
 * (exited, not to be restarted) with 0, Failed once every container terminated
 * and one of them did not exit 0; otherwise Running once every container's
 * process has started or terminated, Pending before.
 */
export function podPhase(containers: readonly ContainerState[]): string {
  if (containers.length > 0 && containers.every((c) => c.terminated))
    return containers.every((c) => c.terminated?.exitCode === 0) ? 'Succeeded' : 'Failed';
  return containers.every((c) => c.startedAt || c.terminated) ? 'Running' : 'Pending';
}

/**
 * Ready and ContainersReady when every container passes its readiness probe
 * (False with reason PodCompleted once the pod succeeded or failed).
 * `previous` keeps lastTransitionTime of conditions whose status holds.
 */
export function podStatus(state: PodState, previous: V1PodStatus | undefined, now: Date): V1PodStatus {
  const phase = podPhase(state.containers);
  const completed = phase === 'Succeeded' || phase === 'Failed';
  const allReady = !completed && state.containers.length > 0 && state.containers.every((c) => c.ready);
  const notReadyReason = completed ? 'PodCompleted' : 'ContainersNotReady';
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
    state: c.terminated
      ? { terminated: terminatedState(c.terminated) }
      : c.startedAt
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
    phase,
    podIP: state.podIP,
    podIPs: [{ ip: state.podIP }],
    hostIP: state.hostIP,
    hostIPs: [{ ip: state.hostIP }],
    startTime: previous?.startTime ?? state.startTime,
    conditions: [
      condition('PodScheduled', true),
      condition('Initialized', true),
      condition('ContainersReady', allReady, notReadyReason),
      condition('Ready', allReady, notReadyReason),
    ],
    containerStatuses,
  };
}

/** A terminated state as the kubelet writes it: reason Completed after exit 0, Error after any other. */
function terminatedState(termination: ContainerTermination): V1ContainerStateTerminated {
  return {
    exitCode: termination.exitCode,
    reason: termination.exitCode === 0 ? 'Completed' : 'Error',
    ...(termination.startedAt ? { startedAt: termination.startedAt } : {}),
    finishedAt: termination.finishedAt,
    ...(termination.message ? { message: termination.message } : {}),
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
        c.state?.terminated?.exitCode,
        c.state?.terminated?.message,
      ]),
    });
  return comparable(current) !== comparable(next);
}
