import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ClusterComponentName as ComponentName } from './cluster-components.ts';
import { CLUSTER_COMPONENTS, CONTROL_PLANE_ORDER } from './cluster-components.ts';
import type { ComponentObservation } from './gate-plan.ts';
import { dependencyClosure, planGates } from './gate-plan.ts';

type State = 'missing' | 'stale' | 'rolling' | 'ready';

/** The real component list, each in one of four states. */
function observe(states: Partial<Record<ComponentName, State>>, rendered = true): ComponentObservation[] {
  return CONTROL_PLANE_ORDER.map((name) => {
    const c = CLUSTER_COMPONENTS[name];
    const state = states[c.name] ?? 'ready';
    return {
      name: c.name,
      dependsOn: c.dependsOn,
      rendered,
      needsWrite: state === 'missing' || state === 'stale',
      availableAtDesired: state === 'ready',
    };
  });
}

const fresh: Partial<Record<ComponentName, State>> = {
  services: 'missing',
  pki: 'missing',
  etcd: 'missing',
  apiServer: 'missing',
  controllerManager: 'missing',
  scheduler: 'missing',
};

describe('planGates', () => {
  it.each<[string, Partial<Record<ComponentName, State>>, ComponentName[]]>([
    ['a new cluster starts with its Services only', fresh, ['services']],
    ['Services up: the PKI is written', { ...fresh, services: 'ready' }, ['pki']],
    ['PKI written: etcd', { ...fresh, services: 'ready', pki: 'ready' }, ['etcd']],
    ['etcd still forming: nothing else', { ...fresh, services: 'ready', pki: 'ready', etcd: 'rolling' }, []],
    [
      'etcd has quorum: the apiserver',
      { ...fresh, services: 'ready', pki: 'ready', etcd: 'ready' },
      ['apiServer'],
    ],
    [
      'apiserver Available: controller-manager and scheduler together',
      { controllerManager: 'missing', scheduler: 'missing' },
      ['controllerManager', 'scheduler'],
    ],
    [
      'upgrade: etcd first, the apiserver waits',
      { etcd: 'stale', apiServer: 'stale', controllerManager: 'stale', scheduler: 'stale' },
      ['etcd'],
    ],
    [
      'upgrade: etcd done, apiserver next',
      { apiServer: 'stale', controllerManager: 'stale', scheduler: 'stale' },
      ['apiServer'],
    ],
    [
      'upgrade: apiserver rolling, controller-manager waits',
      { apiServer: 'rolling', controllerManager: 'stale', scheduler: 'stale' },
      [],
    ],
    [
      'a reissued certificate holds every workload until the Secrets are written',
      { pki: 'stale', apiServer: 'stale' },
      ['pki'],
    ],
    ['all as desired: nothing to do', {}, []],
  ])('%s', (_, states, apply) => {
    expect(planGates(observe(states)).apply).toEqual(apply);
  });

  it('reports what holds each waiting component', () => {
    const plan = planGates(observe({ etcd: 'rolling', apiServer: 'stale', scheduler: 'stale' }));
    expect(plan.waiting).toEqual([
      { name: 'apiServer', blockedBy: 'etcd' },
      { name: 'scheduler', blockedBy: 'apiServer' },
    ]);
    expect(plan.open).toEqual(['services', 'networkPolicies', 'pki', 'etcd']);
    expect(plan.complete).toBe(false);
  });

  it('does not write what cannot be rendered yet', () => {
    expect(planGates(observe(fresh, false)).apply).toEqual([]);
  });

  it('is complete only when every component is Available at the desired version', () => {
    expect(planGates(observe({})).complete).toBe(true);
    expect(planGates(observe({ scheduler: 'rolling' })).complete).toBe(false);
  });

  it('treats a dependency missing from the list as unavailable', () => {
    const plan = planGates([
      { name: 'apiServer', dependsOn: ['etcd'], rendered: true, needsWrite: true, availableAtDesired: false },
    ]);
    expect(plan.apply).toEqual([]);
  });

  it('closes over dependencies: the scheduler waits on etcd through the apiserver', () => {
    const byName = new Map(observe({}).map((o) => [o.name, o]));
    expect(dependencyClosure('scheduler', byName)).toEqual(
      expect.arrayContaining(['apiServer', 'etcd', 'pki', 'services']),
    );
  });

  it('never proceeds past a component that is not Available at the desired version', () => {
    const state = fc.constantFrom<State>('missing', 'stale', 'rolling', 'ready');
    const states = fc.record({
      services: state,
      pki: state,
      etcd: state,
      apiServer: state,
      controllerManager: state,
      scheduler: state,
    });
    fc.assert(
      fc.property(states, fc.boolean(), (s, rendered) => {
        const observations = observe(s, rendered);
        const byName = new Map(observations.map((o) => [o.name, o]));
        const order = observations.map((o) => o.name);
        const plan = planGates(observations);
        for (const name of plan.apply) {
          // Everything it depends on is Available at the desired version…
          for (const dependency of dependencyClosure(name, byName))
            expect(byName.get(dependency)?.availableAtDesired).toBe(true);
          // …and it really had something to write.
          expect(byName.get(name)?.needsWrite).toBe(true);
        }
        // Writes come in bring-up order.
        expect(plan.apply).toEqual(order.filter((n) => plan.apply.includes(n)));
        // A component that is not ready is either being written, held back, or rolling on its own.
        for (const o of observations) {
          if (o.availableAtDesired) continue;
          const accounted =
            plan.apply.includes(o.name) ||
            plan.waiting.some((w) => w.name === o.name) ||
            plan.open.includes(o.name);
          expect(accounted).toBe(true);
        }
      }),
      { numRuns: 500 },
    );
  });
});
