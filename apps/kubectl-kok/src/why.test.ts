import type { Cluster, Condition, Machine, NodePool } from '@kok/api';
import { describe, expect, it } from 'vitest';
import { renderWhy } from './render/why.ts';
import { AGENT_SILENCE_MS, ASSUMED_HEARTBEAT_SECONDS, whyCluster, whyMachine, whyNodePool } from './why.ts';

const NOW = new Date('2026-12-01T10:00:00Z');
const EARLIER = '2026-12-01T09:58:00Z';

function condition(type: string, status: 'True' | 'False', reason: string, message = ''): Condition {
  return { type, status, reason, message, lastTransitionTime: EARLIER };
}

const DRAIN_BLOCKED = {
  reason: 'DrainBlocked',
  message:
    'Its drain is blocked: PodDisruptionBudget shop/db allows no disruption of pod shop/db-0 now. The drain retries by itself; add replicas to that workload or relax the budget to let the pod go.',
  since: EARLIER,
};
const BUDGET_FULL = {
  reason: 'BudgetFull',
  message: 'Waiting for room in the disruption budget of NodePool "workers": maxUnavailable 1 is taken by …',
  since: EARLIER,
};

function machine(name: string, status: Machine['status'] = {}, revision = 'r1'): Machine {
  return {
    apiVersion: 'nodes.kok.dev/v1alpha1',
    kind: 'Machine',
    metadata: { name },
    spec: { pool: 'workers', revision },
    status: { agent: { lastHeartbeatTime: EARLIER }, revision: { current: revision }, ...status },
  } as Machine;
}

function pool(conditions: Condition[]): NodePool {
  return {
    apiVersion: 'nodes.kok.dev/v1alpha1',
    kind: 'NodePool',
    metadata: { name: 'workers', generation: 2 },
    spec: { template: {} },
    status: { observedGeneration: 2, updateRevision: 'r2', machines: 3, updatedMachines: 1, conditions },
  } as NodePool;
}

const ROLLING = condition(
  'RollingOut',
  'True',
  'RollingOut',
  'NodePool "workers" rolling out revision r2: …; 1 machine waiting for room in maxUnavailable 1, taken by w-1 (cordoned for the rollout)',
);

describe('whyMachine', () => {
  it('gives the reason the node-operator wrote, with what the drain waits for', () => {
    const drained = condition(
      'Drained',
      'False',
      'DrainBlocked',
      'waiting for shop/db-0 (eviction refused: …)',
    );
    const answer = whyMachine(
      machine('w-1', { waitingFor: DRAIN_BLOCKED, conditions: [drained] }),
      pool([ROLLING]),
      NOW,
    );
    expect(answer).toEqual({
      object: 'Machine "w-1"',
      summary:
        'being drained for revision r2 of NodePool "workers": waiting for shop/db-0 (eviction refused: …)',
      reasons: [DRAIN_BLOCKED],
    });
    expect(renderWhy(answer, NOW)).toBe(
      'Machine "w-1": being drained for revision r2 of NodePool "workers": waiting for shop/db-0 (eviction refused: …)\n' +
        `  DrainBlocked (for 2m): ${DRAIN_BLOCKED.message}\n`,
    );
  });

  it('adds the pool’s line, which names the machines holding a full budget', () => {
    const answer = whyMachine(machine('w-2', { waitingFor: BUDGET_FULL }), pool([ROLLING]), NOW);
    expect(answer.reasons).toEqual([BUDGET_FULL, { reason: 'RollingOut', message: ROLLING.message }]);
    expect(answer.summary).toBe('not told revision r2 of NodePool "workers" yet');
  });

  it('says from the heartbeat when the agent has gone quiet, and on what assumption', () => {
    const quiet = machine('w-3', { agent: { lastHeartbeatTime: '2026-12-01T09:40:00Z' } });
    expect(whyMachine(quiet, pool([ROLLING]), NOW).reasons).toEqual([
      {
        reason: 'AgentNotReporting',
        message:
          'Its node agent has not reported since 2026-12-01T09:40:00.000Z, so the rollout cannot tell what the host runs. Check the agent on the host (its service and its credentials). ' +
          "(The plugin judges this itself: no report for 10 minutes, twice the agent's default --heartbeat-seconds of 300; " +
          'neither the Machine nor its pool records the interval its agent runs with, so an agent started with a longer one may only be between reports.)',
        since: '2026-12-01T09:40:00Z',
      },
    ]);
  });

  it.each([
    ['2026-12-01T09:50:01Z', []],
    ['2026-12-01T09:50:00Z', ['AgentNotReporting']],
  ])(
    'counts an agent silent after two assumed heartbeats (last report %s)',
    (lastHeartbeatTime, expected) => {
      const answer = whyMachine(machine('w-3', { agent: { lastHeartbeatTime } }), pool([ROLLING]), NOW);
      expect(answer.reasons.map((reason) => reason.reason)).toEqual(expected);
      expect(AGENT_SILENCE_MS).toBe(2 * ASSUMED_HEARTBEAT_SECONDS * 1000);
    },
  );

  it('holds nothing against a machine at the target, and says when no pool moves it', () => {
    const answer = whyMachine(machine('w-4', {}, 'r2'), pool([ROLLING]), NOW);
    expect(answer).toEqual({
      object: 'Machine "w-4"',
      summary: 'runs revision r2, the target of NodePool "workers"',
      reasons: [],
    });
    expect(renderWhy(answer, NOW)).toBe(
      'Machine "w-4": runs revision r2, the target of NodePool "workers"\n  Nothing holds it.\n',
    );
    expect(whyMachine(machine('w-5'), undefined, NOW).summary).toBe(
      'in NodePool "workers", which does not exist',
    );
  });
});

describe('whyNodePool', () => {
  it('puts what stops the pool first, then how many machines wait for what', () => {
    const paused = condition('Paused', 'True', 'Paused', 'NodePool "workers" paused (spec.paused): …');
    const answer = whyNodePool(
      pool([paused, ROLLING]),
      [
        machine('w-1', { waitingFor: DRAIN_BLOCKED }),
        machine('w-2', { waitingFor: BUDGET_FULL }),
        machine('w-3', { waitingFor: BUDGET_FULL }),
        machine('other', { waitingFor: BUDGET_FULL }),
      ].map((m, i) => (i === 3 ? { ...m, spec: { pool: 'other' } } : m)),
      NOW,
    );
    expect(answer).toEqual({
      object: 'NodePool "workers"',
      summary: 'rolling out revision r2: 1/3 machines updated',
      reasons: [
        { reason: 'Paused', message: paused.message, since: EARLIER },
        { reason: 'DrainBlocked', message: `1 machine (w-1): ${DRAIN_BLOCKED.message}` },
        { reason: 'BudgetFull', message: `2 machines (w-2, w-3): ${BUDGET_FULL.message}` },
      ],
    });
  });

  it('says when the node-operator is behind the spec, and holds nothing against a finished pool', () => {
    const behind = { ...pool([condition('RollingOut', 'False', 'Complete', 'done')]) };
    behind.metadata = { name: 'workers', generation: 3 };
    expect(whyNodePool(behind, [], NOW).reasons.map((r) => r.reason)).toEqual(['OperatorBehind']);
    expect(whyNodePool(pool([condition('RollingOut', 'False', 'Complete', 'done')]), [], NOW)).toEqual({
      object: 'NodePool "workers"',
      summary: 'runs revision r2 on all 3 machines',
      reasons: [],
    });
  });
});

function cluster(status: Cluster['status'], extra: Partial<Cluster['spec']> = {}): Cluster {
  return {
    apiVersion: 'clusters.kok.dev/v1alpha1',
    kind: 'Cluster',
    metadata: { name: 'prod', namespace: 'fleet', generation: 4 },
    spec: { version: 'v1.36.1', ...extra },
    status: { observedGeneration: 4, ...status },
  } as Cluster;
}

describe('whyCluster', () => {
  it('names the gate an upgrade waits at, since when', () => {
    const answer = whyCluster(
      cluster({
        phase: 'Upgrading',
        version: { current: 'v1.36.0', desired: 'v1.36.1' },
        gates: [
          { name: 'EtcdAvailable', startedAt: '2026-12-01T09:50:00Z', completedAt: '2026-12-01T09:51:00Z' },
          { name: 'APIServerAvailable', startedAt: '2026-12-01T09:51:00Z' },
        ],
        conditions: [
          condition('EtcdAvailable', 'True', 'QuorumReady'),
          condition('APIServerAvailable', 'False', 'RollingOut', '1 of 2 replicas at v1.36.1 Ready'),
          condition('ControllerManagerAvailable', 'False', 'WaitingForGate', 'waits for APIServerAvailable'),
          condition('Progressing', 'True', 'UpgradeInProgress', '1 of 2 replicas at v1.36.1 Ready'),
        ],
      }),
    );
    expect(answer).toEqual({
      object: 'Cluster "fleet/prod"',
      summary: 'at v1.36.0, desired v1.36.1 (phase Upgrading)',
      reasons: [
        {
          reason: 'RollingOut',
          message: 'Waiting at gate APIServerAvailable: 1 of 2 replicas at v1.36.1 Ready',
          since: '2026-12-01T09:51:00Z',
        },
      ],
    });
  });

  it('says who paused it, and quotes a hold the operator reported', () => {
    const paused = whyCluster(cluster({ version: { current: 'v1.36.0' } }, { paused: true }));
    expect(paused.reasons).toEqual([
      {
        reason: 'Paused',
        message:
          'The Cluster is paused by spec.paused: the kube-on-kube operator writes nothing for it. Set spec.paused to false and remove the annotation to let it go on.',
      },
    ]);
    const held = whyCluster(
      cluster({
        conditions: [
          condition('Progressing', 'False', 'EtcdVersionUnknown', 'no etcd version is paired with v1.37.0'),
          condition('Degraded', 'True', 'EtcdVersionUnknown', 'no etcd version is paired with v1.37.0'),
        ],
      }),
    );
    expect(held.reasons).toEqual([
      { reason: 'EtcdVersionUnknown', message: 'no etcd version is paired with v1.37.0', since: EARLIER },
    ]);
  });

  it('quotes the operator holding a minor upgrade for its kubelets, with the Nodes it names', () => {
    const message =
      'the upgrade to v1.37.0 waits: 1 of 2 kubelets are outside the skew policy of an apiserver at v1.37.0 ' +
      '(a kubelet may be at most 3 minor versions older, never newer): worker-2 (v1.33.0); the control plane ' +
      'stays at v1.36.1 until those kubelets are upgraded or their Nodes are gone';
    const held = whyCluster(
      cluster(
        {
          version: { current: 'v1.36.1', desired: 'v1.36.1' },
          conditions: [
            condition('Progressing', 'False', 'KubeletVersionSkew', message),
            condition('Degraded', 'True', 'KubeletVersionSkew', message),
          ],
        },
        { version: 'v1.37.0' },
      ),
    );
    expect(held.summary).toBe('at v1.36.1, desired v1.37.0 (phase unknown)');
    expect(held.reasons).toEqual([{ reason: 'KubeletVersionSkew', message, since: EARLIER }]);
    expect(renderWhy(held, NOW)).toContain(`  KubeletVersionSkew (for 2m): ${message}`);
  });

  it.each([
    [
      'EtcdMembership',
      'RemovalWouldLoseQuorum',
      'The next etcd membership change waits: removing member 2 would leave too few healthy voters for quorum; it is removed once the others answer.',
    ],
    [
      'EtcdMembership',
      'LearnerCatchingUp',
      "The next etcd membership change waits: learner 3 does not answer yet (it starts and catches up with the leader's log); it is promoted once it does.",
    ],
    [
      'EtcdMembership',
      'MemberUnhealthy',
      'The next etcd membership change waits: member 1 does not answer for itself; no member is added until it does.',
    ],
    [
      'EtcdMembership',
      'LostMemberRemovalWouldLoseQuorum',
      'The next etcd membership change waits: member 1 lost its data, but removing it would leave too few healthy voters for quorum; bring the other unhealthy members back first.',
    ],
    [
      'EtcdAlarm',
      'NOSPACE',
      'etcd prod-etcd-0 raised NOSPACE: the database reached its quota (--quota-backend-bytes) and etcd refuses writes. Free space or raise the quota, then run `etcdctl alarm disarm`.',
    ],
  ])('quotes %s %s with its sentence, since it was set', (type, reason, message) => {
    const answer = whyCluster(
      cluster({
        version: { current: 'v1.36.1' },
        conditions: [
          condition('Progressing', 'False', 'AsDesired', 'every component runs as desired'),
          condition(type, type === 'EtcdAlarm' ? 'True' : 'False', reason, message),
        ],
      }),
    );
    expect(answer.reasons).toEqual([{ reason, message, since: EARLIER }]);
    expect(answer.summary).toBe('at v1.36.1, desired v1.36.1 (phase unknown)');
  });

  it('says nothing of etcd while its membership is as desired and no alarm is raised', () => {
    const answer = whyCluster(
      cluster({
        version: { current: 'v1.36.1' },
        conditions: [
          condition('Progressing', 'False', 'AsDesired', 'every component runs as desired'),
          condition('EtcdMembership', 'True', 'Changing', 'adding member 3 as a learner'),
          condition('EtcdAlarm', 'False', 'NoAlarm', 'etcd has no alarm raised'),
        ],
      }),
    );
    expect(answer.reasons).toEqual([]);
  });

  it('holds nothing against a Cluster at its version', () => {
    expect(
      whyCluster(
        cluster({
          version: { current: 'v1.36.1' },
          conditions: [condition('Progressing', 'False', 'AsDesired', 'every component runs as desired')],
        }),
      ),
    ).toEqual({ object: 'Cluster "fleet/prod"', summary: 'runs v1.36.1 as desired', reasons: [] });
  });
});
