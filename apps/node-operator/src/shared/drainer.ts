import { DEFAULT_DRAIN_TIMEOUT_SECONDS, findCondition, MachineConditions, setCondition } from '@kok/api';
import type { Condition, ConditionUpdate, Machine } from '@kok/api';
import { builtinTypes, isNotFound, TooManyRequestsError } from '@kok/reconcile';
import type { EventRecorder, KubeClient } from '@kok/reconcile';
import { DRAIN_TIMEOUT } from '@kok/rollout';
import type { KubernetesObject, V1Pod } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { DrainSpec } from './drain-plan.ts';
import { isDrainComplete, planDrain, podName, refusingDisruptionBudget } from './drain-plan.ts';
import { machineType, OperatorAnnotations } from './resources.ts';

export interface DrainOutcome {
  /** Every pod that had to leave is gone. */
  drained: boolean;
  /** For the Drained condition and the pool's message. */
  message: string;
  /** The first pod that may not leave now and why: an eviction refused (by which budget), or kok may not evict it. */
  blocked?: DrainBlock;
  /** The Machine's resourceVersion after this drain wrote its Drained condition (none written: absent). */
  resourceVersion?: string;
}

export interface DrainOptions {
  /**
   * The caller patches the Machine, guarded by its resourceVersion, once it is drained: the Drained
   * condition written then is guarded by the version observed, and the outcome carries the one it made.
   */
  thenPatched?: boolean;
}

export interface DrainBlock {
  /** `namespace/name`. */
  pod: string;
  /** `namespace/name` of the PodDisruptionBudget that refused the eviction, when the apiserver named it. */
  podDisruptionBudget?: string;
  detail: string;
}

/**
 * Drains one node: evicts its pods through the Eviction API (policy/v1), so
 * PodDisruptionBudgets decide; a 429 means a budget says not now, and the pod
 * is tried again on the next pass. Never deletes a pod directly (no force).
 * Reports progress in the Machine's Drained condition under its own field
 * manager, and a Warning Event once a rollout's drain outlasts
 * drain.timeoutSeconds (the rollout planner then counts the machine failed;
 * the drain goes on).
 */
export class Drainer {
  readonly #client: KubeClient;
  readonly #events: EventRecorder;
  readonly #log: Logger;

  /** `client` should have a field manager of its own: it server-side applies only the Drained condition. */
  constructor(client: KubeClient, events: EventRecorder, log: Logger) {
    this.#client = client;
    this.#events = events;
    this.#log = log;
  }

  async drain(
    machine: Machine,
    spec: DrainSpec | undefined,
    now: Date,
    { thenPatched = false }: DrainOptions = {},
  ): Promise<DrainOutcome> {
    const node = machine.metadata?.name ?? '';
    const { items: pods } = await this.#client.list(builtinTypes.pod, {
      fieldSelector: `spec.nodeName=${node}`,
    });
    const plan = planDrain(pods, spec);
    const refused: string[] = [];
    const blocks: DrainBlock[] = [];
    for (const pod of plan.evict) {
      const refusal = await this.#evict(pod, spec?.gracePeriodSeconds ?? -1);
      if (!refusal) continue;
      refused.push(`${podName(pod)} (${refusal.detail})`);
      blocks.push({ pod: podName(pod), ...refusal });
    }
    blocks.push(...plan.blocked.map((b) => ({ pod: podName(b.pod), detail: b.why })));
    const drained = isDrainComplete(plan);
    const waitingFor = [
      ...refused,
      ...plan.blocked.map((b) => `${podName(b.pod)} (${b.why})`),
      ...plan.terminating.map((p) => `${podName(p)} (terminating)`),
      ...plan.evict
        .filter((p) => !refused.some((r) => r.startsWith(`${podName(p)} `)))
        .map((p) => `${podName(p)} (evicted)`),
    ];
    const startedAt = Date.parse(machine.metadata?.annotations?.[OperatorAnnotations.drainStartedAt] ?? '');
    const timeoutSeconds = spec?.timeoutSeconds ?? DEFAULT_DRAIN_TIMEOUT_SECONDS;
    // As the planner judges it (libs/rollout drain-timeout.ts): at the timeout itself the drain has timed out.
    const timedOut =
      !drained &&
      timeoutSeconds > 0 &&
      !Number.isNaN(startedAt) &&
      now.getTime() - startedAt >= timeoutSeconds * 1000;
    // The reason says whether it timed out; the message, quoted in the pool's failure, says what it waits for.
    const message = drained
      ? `all pods that had to leave are gone (${plan.skipped.length} left in place)`
      : `waiting for ${waitingFor.slice(0, 10).join(', ')}${waitingFor.length > 10 ? ` and ${waitingFor.length - 10} more` : ''}`;
    const reason = drained
      ? 'Drained'
      : timedOut
        ? DRAIN_TIMEOUT
        : refused.length + plan.blocked.length > 0
          ? 'DrainBlocked'
          : 'Draining';
    const resourceVersion = await this.setDrainedCondition(
      machine,
      { type: MachineConditions.Drained, status: drained ? 'True' : 'False', reason, message },
      now,
      { onObservedVersion: thenPatched && drained },
    );
    if (timedOut) {
      await this.#events.record(
        machine as KubernetesObject,
        'Warning',
        DRAIN_TIMEOUT,
        'Drain',
        `drain exceeded drain.timeoutSeconds ${timeoutSeconds}, still ${message}; the rollout counts the machine failed, and kok does not force evictions: resolve the blocking pods or budgets`,
      );
    }
    const [blocked] = blocks;
    return {
      drained,
      message,
      ...(blocked ? { blocked } : {}),
      ...(resourceVersion === undefined ? {} : { resourceVersion }),
    };
  }

  /** Evicts one pod; returns why it was refused (and by which budget), or undefined when it was accepted or is gone. */
  async #evict(
    pod: V1Pod,
    gracePeriodSeconds: number,
  ): Promise<{ detail: string; podDisruptionBudget?: string } | undefined> {
    const namespace = pod.metadata?.namespace ?? '';
    const name = pod.metadata?.name ?? '';
    try {
      await this.#client.request('POST', `/api/v1/namespaces/${namespace}/pods/${name}/eviction`, {
        body: {
          apiVersion: 'policy/v1',
          kind: 'Eviction',
          metadata: { name, namespace },
          ...(gracePeriodSeconds >= 0 ? { deleteOptions: { gracePeriodSeconds } } : {}),
        },
      });
      return undefined;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      if (error instanceof TooManyRequestsError) {
        const budget = refusingDisruptionBudget(error.status.details?.causes, namespace);
        return {
          detail: `eviction refused: ${error.status.message ?? 'a PodDisruptionBudget allows no disruption now'}`,
          ...(budget ? { podDisruptionBudget: budget } : {}),
        };
      }
      this.#log.warn({ err: error, pod: `${namespace}/${name}` }, 'eviction failed');
      return { detail: `eviction failed: ${(error as Error).message}` };
    }
  }

  /**
   * Server-side applies this controller's Drained condition; `undefined` removes it (after the uncordon).
   * Resolves to the Machine's resourceVersion after the write, or undefined when nothing had to change.
   * `onObservedVersion`: only if the Machine is still as observed (a write that a guarded patch follows).
   */
  async setDrainedCondition(
    machine: Machine,
    update: ConditionUpdate | undefined,
    now: Date,
    { onObservedVersion = false }: { onObservedVersion?: boolean } = {},
  ): Promise<string | undefined> {
    const existing = findCondition(machine.status?.conditions, MachineConditions.Drained);
    if (!update && !existing) return undefined;
    if (
      update &&
      existing &&
      existing.status === update.status &&
      existing.reason === update.reason &&
      existing.message === (update.message ?? '')
    )
      return undefined;
    const conditions: Condition[] = update
      ? [findCondition(setCondition(machine.status?.conditions, update, now), update.type) as Condition]
      : [];
    const written = await this.#client.applyStatus(machineType, {
      apiVersion: machineType.apiVersion,
      kind: machineType.kind,
      metadata: {
        name: machine.metadata?.name ?? '',
        ...(onObservedVersion ? { resourceVersion: machine.metadata?.resourceVersion } : {}),
      },
      status: { conditions },
    } as Machine & KubernetesObject);
    return written.metadata?.resourceVersion;
  }
}
