import { describe, expect, it } from 'vitest';
import { describeWaitReason, WAIT_REASON_KINDS } from './wait-reasons.ts';
import type { WaitReason, WaitReasonKind } from './wait-reasons.ts';

const UNTIL = Date.parse('2025-06-01T12:30:00Z');

/** One reason of every kind, and the sentences `why` prints for it (pool "workers"). */
const SENTENCES: readonly [WaitReason, string][] = [
  [
    { kind: 'Paused' },
    'NodePool "workers" is paused (spec.paused), so no machine starts its update. Resume it with: kubectl kok nodepool resume workers.',
  ],
  [
    { kind: 'AwaitingResume', wave: '"canary" (waves[0])', nextWave: 'waves[1]' },
    'NodePool "workers" holds after wave "canary" (waves[0]) (pauseAfter: true) until a person resumes it. Check that wave, then run kubectl kok nodepool resume workers to start waves[1].',
  ],
  [
    { kind: 'PauseAfter', wave: 'waves[0]', until: UNTIL },
    'NodePool "workers" holds after wave waves[0] until 2025-06-01T12:30:00.000Z (pauseAfter). The next wave starts on its own then; pause the pool to keep it from starting.',
  ],
  [
    { kind: 'Baking', wave: 'waves[1]', until: UNTIL },
    'Wave waves[1] of NodePool "workers" is baking until 2025-06-01T12:30:00.000Z: its machines must stay healthy that long before the next wave starts. Nothing to do unless they fail.',
  ],
  [
    { kind: 'WaitingForWave', wave: 'waves[2] (remaining machines)', currentWave: '"canary" (waves[0])' },
    'Waiting for its wave, waves[2] (remaining machines): NodePool "workers" is still rolling out "canary" (waves[0]). It starts once the waves before it are complete.',
  ],
  [
    {
      kind: 'BudgetFull',
      maxUnavailable: 2,
      holders: ['worker-1', 'worker-2', 'worker-3', 'worker-4', 'worker-5'],
      holderCount: 7,
    },
    'Waiting for room in the disruption budget of NodePool "workers": maxUnavailable 2 is taken by worker-1, worker-2, worker-3, worker-4, worker-5 and 2 more. It starts as soon as one of them is back in service; a larger maxUnavailable lets more update at once.',
  ],
  [
    { kind: 'VersionSkew', problem: 'kubelet v1.31.0 would be newer than the apiserver v1.30.2' },
    'NodePool "workers" is held by the version-skew guard: kubelet v1.31.0 would be newer than the apiserver v1.30.2. Upgrade the control plane first, or change the pool template\'s version.',
  ],
  [
    {
      kind: 'CatalogProblem',
      problem: 'VersionNotFound',
      detail: 'kubelet v1.31.9: Component "kubelet" lists no version v1.31.9 (it has v1.31.0)',
    },
    'NodePool "workers"\'s template names what the Component catalog does not offer (VersionNotFound): kubelet v1.31.9: Component "kubelet" lists no version v1.31.9 (it has v1.31.0). Fix the Component or the pool template; the rollout goes on by itself then.',
  ],
  [
    {
      kind: 'FailureBudgetExceeded',
      revision: 'r2',
      failed: ['worker-1', 'worker-4'],
      failedCount: 2,
      maxFailed: 1,
    },
    'NodePool "workers" stopped: 2 machines failed at revision r2 (worker-1, worker-4), more than maxFailed 1. Fix or remove the failed machines, raise maxFailed, or roll back with kubectl kok nodepool rollback workers.',
  ],
  [
    { kind: 'RolledBack', revision: 'r2', toRevision: 'r1' },
    'NodePool "workers" rolled revision r2 back to revision r1 and does not roll it out again. Change the pool template to roll out a fixed revision.',
  ],
  [
    { kind: 'InvalidSpec', problems: ['rollout.maxFailed must be a whole number (0 or more), got -1'] },
    'NodePool "workers" cannot roll out: rollout.maxFailed must be a whole number (0 or more), got -1. Fix the pool spec.',
  ],
  [
    {
      kind: 'DrainBlocked',
      pod: 'shop/db-0',
      podDisruptionBudget: 'shop/db',
      detail: "eviction refused: Cannot evict pod as it would violate the pod's disruption budget.",
    },
    'Its drain is blocked: PodDisruptionBudget shop/db allows no disruption of pod shop/db-0 now. The drain retries by itself; add replicas to that workload or relax the budget to let the pod go.',
  ],
  [
    { kind: 'UnderRemediation' },
    'A remediation is working on it (condition Remediating); the rollout leaves it alone until that ends.',
  ],
  [
    { kind: 'CordonedOutsideRollout' },
    'Its Node is cordoned by someone other than the rollout, which leaves it alone. Uncordon the Node to let it update.',
  ],
  [
    { kind: 'MachinePaused', annotation: 'nodes.kok.dev/paused' },
    'The Machine carries the annotation nodes.kok.dev/paused, so the rollout does not touch it. Remove the annotation to let it update.',
  ],
  [
    { kind: 'Failed', revision: 'r2', detail: 'kubelet: exec check exited 1' },
    "It failed at revision r2: kubelet: exec check exited 1. It counts against the pool's maxFailed; repair the host, or roll the pool back.",
  ],
  [
    { kind: 'AgentNotReporting', since: UNTIL },
    'Its node agent has not reported since 2025-06-01T12:30:00.000Z, so the rollout cannot tell what the host runs. Check the agent on the host (its service and its credentials).',
  ],
  [
    { kind: 'HealthGate', gates: ['KernelDeadlock=False'] },
    "Its Node does not meet the pool's health gate KernelDeadlock=False, so it does not count as healthy. Clear the problem behind that Node condition to let the rollout go on.",
  ],
];

describe('describeWaitReason', () => {
  it('has a sentence in this table for every kind of wait reason', () => {
    const covered = new Set<WaitReasonKind>(SENTENCES.map(([reason]) => reason.kind));
    expect([...WAIT_REASON_KINDS].filter((kind) => !covered.has(kind))).toEqual([]);
    expect(covered.size).toBe(WAIT_REASON_KINDS.length);
  });

  it.each(SENTENCES.map(([reason, sentence]) => [reason.kind, reason, sentence] as const))(
    '%s: says what holds the machine and what a person can do',
    (_kind, reason, sentence) => {
      expect(describeWaitReason(reason, 'workers')).toBe(sentence);
    },
  );

  it('names the holders of a full budget only when it knows them, and points to the pool otherwise', () => {
    expect(describeWaitReason({ kind: 'BudgetFull', maxUnavailable: 1 }, 'workers')).toBe(
      'Waiting for room in the disruption budget of NodePool "workers": maxUnavailable 1 is taken by machines being updated or unavailable (kubectl kok why nodepool workers names them). It starts as soon as one of them is back in service; a larger maxUnavailable lets more update at once.',
    );
  });

  it('says how a drain is blocked when no PodDisruptionBudget is named, and when an agent never reported', () => {
    expect(
      describeWaitReason(
        { kind: 'DrainBlocked', pod: 'shop/cache-1', detail: 'annotated nodes.kok.dev/exclude-from-drain' },
        'workers',
      ),
    ).toBe(
      'Its drain is blocked by pod shop/cache-1: annotated nodes.kok.dev/exclude-from-drain. The drain retries by itself once the pod may leave.',
    );
    expect(describeWaitReason({ kind: 'AgentNotReporting' }, 'workers')).toMatch(
      /^Its node agent has never reported/,
    );
    expect(describeWaitReason({ kind: 'RolledBack', revision: 'r2' }, 'workers')).toMatch(
      /^NodePool "workers" rolled revision r2 back and does not roll it out again\./,
    );
  });
});
