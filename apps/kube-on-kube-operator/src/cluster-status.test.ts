import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { resolveCluster } from './cluster-spec.ts';
import type { ComponentReport, StatusInputs } from './cluster-status.ts';
import { nextClusterStatus } from './cluster-status.ts';
import type { ComponentName } from './components/component.ts';
import { controlPlaneComponents } from './components/bring-up-order.ts';
import { planGates } from '@kok/api';

type State = 'missing' | 'stale' | 'rolling' | 'ready';

function reports(states: Partial<Record<ComponentName, State>>): ComponentReport[] {
  return controlPlaneComponents.map((c) => {
    const state = states[c.name] ?? 'ready';
    return {
      name: c.name,
      ...(c.condition ? { condition: c.condition } : {}),
      needsWrite: state === 'missing' || state === 'stale',
      status: {
        available: state === 'ready' || state === 'rolling' || state === 'stale',
        availableAtDesired: state === 'ready',
        reason: state === 'ready' ? 'Available' : 'RollingOut',
        message: `${c.name} is ${state}`,
        replicas: 3,
        ready: state === 'missing' ? 0 : 3,
      },
    };
  });
}

function inputs(
  previous: StatusInputs['previous'],
  states: Partial<Record<ComponentName, State>>,
  version: string,
  generation: number,
  now: Date,
): StatusInputs {
  const r = reports(states);
  return {
    previous,
    generation,
    cluster: resolveCluster({ metadata: { name: 'prod', namespace: 'fleet' }, spec: { version } }),
    reports: r,
    plan: planGates(
      r.map((x) => ({
        name: x.name,
        dependsOn: controlPlaneComponents.find((c) => c.name === x.name)?.dependsOn ?? [],
        rendered: true,
        needsWrite: x.needsWrite,
        availableAtDesired: x.status.availableAtDesired,
      })),
    ),
    endpoint: 'https://prod-apiserver.fleet.svc:6443',
    kubeconfigSecretName: 'prod-admin-kubeconfig',
    now,
  };
}

const all = (state: State) =>
  Object.fromEntries(controlPlaneComponents.map((c) => [c.name, state])) as Record<ComponentName, State>;
const t = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));
const condition = (
  status: { conditions?: { type: string; status: string; reason: string }[] },
  type: string,
) => status.conditions?.find((c) => c.type === type);

describe('nextClusterStatus', () => {
  it('after a rollback: Degraded with the reason, not Progressing, the operation Failed, the version not moved', () => {
    const ready = nextClusterStatus(inputs(undefined, all('ready'), 'v1.36.3', 1, t(0))).status;
    const upgrading = nextClusterStatus(inputs(ready, { apiServer: 'stale' }, 'v1.36.4', 2, t(1))).status;
    const halted = {
      reason: 'ProgressDeadlineExceeded',
      message: 'apiServer did not become Available; rolled back',
    };
    const held = nextClusterStatus({
      ...inputs(upgrading, { apiServer: 'stale' }, 'v1.36.4', 2, t(9)),
      halted,
    });
    expect(held.status.phase).toBe('Degraded');
    expect(condition(held.status, 'Degraded')).toMatchObject({ status: 'True', reason: halted.reason });
    expect(condition(held.status, 'Progressing')).toMatchObject({ status: 'False', reason: halted.reason });
    expect(condition(held.status, 'Available')?.status).toBe('True');
    expect(held.status.lastOperation).toMatchObject({
      type: 'Upgrade',
      state: 'Failed',
      message: halted.message,
    });
    expect(held.status.version).toMatchObject({ current: 'v1.36.3', desired: 'v1.36.4' });
    expect(held.status.version?.history?.[0]).toMatchObject({ version: 'v1.36.4', state: 'Partial' });
  });

  it('walks a bring-up from Provisioning to Ready', () => {
    const start = nextClusterStatus(inputs(undefined, all('missing'), 'v1.36.3', 1, t(0)));
    expect(start.status.phase).toBe('Provisioning');
    expect(start.operation).toBe('Create');
    expect(start.status.lastOperation).toMatchObject({ type: 'Create', state: 'Processing', progress: 0 });
    expect(start.status.version).toEqual({
      desired: 'v1.36.3',
      history: [{ version: 'v1.36.3', state: 'Partial', startedTime: '2026-01-01T00:00:00Z' }],
    });
    expect(condition(start.status, 'Progressing')).toMatchObject({
      status: 'True',
      reason: 'CreateInProgress',
    });
    expect(condition(start.status, 'Degraded')?.status).toBe('False');

    const done = nextClusterStatus(inputs(start.status, {}, 'v1.36.3', 1, t(30)));
    expect(done.status.phase).toBe('Ready');
    expect(done.status.version?.current).toBe('v1.36.3');
    expect(done.status.version?.history?.[0]).toMatchObject({
      state: 'Completed',
      completionTime: '2026-01-01T00:00:30Z',
    });
    expect(done.status.lastOperation).toMatchObject({
      state: 'Succeeded',
      progress: 100,
      finishedAt: '2026-01-01T00:00:30Z',
    });
    for (const type of [
      'EtcdAvailable',
      'APIServerAvailable',
      'ControllerManagerAvailable',
      'SchedulerAvailable',
      'Available',
    ])
      expect(condition(done.status, type)?.status, type).toBe('True');
    expect(condition(done.status, 'Progressing')?.status).toBe('False');
    expect(done.completedGates.map((g) => g.name)).toEqual([
      'EtcdAvailable',
      'APIServerAvailable',
      'ControllerManagerAvailable',
      'SchedulerAvailable',
    ]);
    expect(done.status.components?.etcd).toEqual({ replicas: 3, ready: 3 });
  });

  it('an upgrade is Upgrading, keeps the cluster Available, and records history', () => {
    const ready = nextClusterStatus(
      inputs(nextClusterStatus(inputs(undefined, {}, 'v1.36.3', 1, t(0))).status, {}, 'v1.36.3', 1, t(1)),
    ).status;
    const upgrading = nextClusterStatus(
      inputs(
        ready,
        { apiServer: 'stale', controllerManager: 'stale', scheduler: 'stale' },
        'v1.36.4',
        2,
        t(10),
      ),
    );
    expect(upgrading.operation).toBe('Upgrade');
    expect(upgrading.status.phase).toBe('Upgrading');
    expect(upgrading.status.version).toMatchObject({ current: 'v1.36.3', desired: 'v1.36.4' });
    expect(upgrading.status.version?.history?.map((h) => [h.version, h.state])).toEqual([
      ['v1.36.4', 'Partial'],
      ['v1.36.3', 'Completed'],
    ]);
    expect(condition(upgrading.status, 'Available')?.status).toBe('True');
    expect(condition(upgrading.status, 'APIServerAvailable')).toMatchObject({
      status: 'False',
      reason: 'RollingOut',
    });
    // The gates of the previous operation are gone; etcd passes at once, the apiserver gate is open.
    expect(upgrading.status.gates?.map((g) => [g.name, g.completedAt !== undefined])).toEqual([
      ['EtcdAvailable', true],
      ['APIServerAvailable', false],
    ]);
  });

  it('a component down without a rollout is Degraded', () => {
    const ready = nextClusterStatus(inputs(undefined, {}, 'v1.36.3', 1, t(0))).status;
    const down = nextClusterStatus({
      ...inputs(ready, {}, 'v1.36.3', 1, t(5)),
      reports: reports({}).map((r) =>
        r.name === 'etcd'
          ? {
              ...r,
              status: {
                ...r.status,
                available: false,
                availableAtDesired: false,
                reason: 'NotEnoughReady',
                message: 'etcd: 1/3 ready',
              },
            }
          : r,
      ),
    });
    expect(down.status.phase).toBe('Degraded');
    expect(condition(down.status, 'Degraded')).toMatchObject({
      status: 'True',
      reason: 'ComponentsUnavailable',
    });
    expect(condition(down.status, 'Available')?.status).toBe('False');
  });

  it('an apply error shows in Degraded and lastOperation', () => {
    const failed = nextClusterStatus({
      ...inputs(undefined, all('missing'), 'v1.36.3', 1, t(0)),
      applyError: 'writing StatefulSet prod-etcd failed: forbidden',
    });
    expect(condition(failed.status, 'Degraded')).toMatchObject({ status: 'True', reason: 'ApplyFailed' });
    expect(failed.status.lastOperation?.message).toContain('forbidden');
  });

  it('is a fixed point: the same world later yields the same status (no needless writes)', () => {
    const state = fc.constantFrom<State>('missing', 'stale', 'rolling', 'ready');
    fc.assert(
      fc.property(
        fc.record({
          services: state,
          pki: state,
          etcd: state,
          apiServer: state,
          controllerManager: state,
          scheduler: state,
        }),
        fc.integer({ min: 1, max: 3600 }),
        (states, later) => {
          const first = nextClusterStatus(inputs(undefined, states, 'v1.36.3', 1, t(0))).status;
          const again = nextClusterStatus(inputs(first, states, 'v1.36.3', 1, t(later))).status;
          expect(again).toEqual(first);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('status of a Cluster on an external etcd', () => {
  it('counts no etcd pods and does not claim an etcd quorum it cannot see', () => {
    const external = {
      ...inputs(undefined, all('ready'), 'v1.36.3', 1, new Date('2026-01-01T00:00:00Z')),
      cluster: resolveCluster({
        metadata: { name: 'prod', namespace: 'fleet' },
        spec: {
          version: 'v1.36.3',
          etcd: { external: { endpoints: ['https://etcd:2379'], tlsSecretRef: { name: 'etcd-client' } } },
        },
      }),
    };
    const { status } = nextClusterStatus(external);
    expect(status.components?.etcd).toBeUndefined();
    expect(status.components?.apiServer).toEqual({ replicas: 3, ready: 3 });
    expect(status.conditions?.find((c) => c.type === 'Available')?.message).toBe(
      'every master component has its required replicas Ready (etcd is external)',
    );
  });
});
