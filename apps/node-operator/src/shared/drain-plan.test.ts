import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { isDrainComplete, planDrain, refusingDisruptionBudget } from './drain-plan.ts';

describe('refusingDisruptionBudget', () => {
  it.each<[string, { message?: string }[] | undefined, string | undefined]>([
    [
      'a budget without room',
      [{ message: 'The disruption budget db needs 2 healthy pods and has 2 currently' }],
      'shop/db',
    ],
    [
      'a budget the server has not processed yet',
      [{ message: 'The disruption budget db-pdb is still being processed by the server.' }],
      'shop/db-pdb',
    ],
    ['no cause', undefined, undefined],
    ['a cause naming no budget', [{ message: 'something else' }], undefined],
  ])('%s', (_, causes, expected) => {
    expect(refusingDisruptionBudget(causes, 'shop')).toBe(expected);
  });
});

describe('planDrain', () => {
  const p = (
    name: string,
    extra: Partial<V1Pod['metadata']> = {},
    spec: Partial<V1Pod['spec']> = {},
    phase = 'Running',
  ): V1Pod =>
    ({
      metadata: { namespace: 'ns', name, ...extra },
      spec: { containers: [], ...spec },
      status: { phase },
    }) as V1Pod;
  it('skips DaemonSet, mirror and finished pods, waits for terminating ones, refuses emptyDir and excluded ones', () => {
    const plan = planDrain(
      [
        p('web'),
        p('ds', {
          ownerReferences: [
            { kind: 'DaemonSet', controller: true, apiVersion: 'apps/v1', name: 'd', uid: 'u' },
          ],
        }),
        p('static', { annotations: { 'kubernetes.io/config.mirror': 'x' } }),
        p('done', {}, {}, 'Succeeded'),
        p('going', { deletionTimestamp: new Date() }),
        p('scratch', {}, { volumes: [{ name: 'v', emptyDir: {} }] }),
        p('pinned', { annotations: { 'nodes.kok.dev/exclude-from-drain': 'true' } }),
      ],
      undefined,
    );
    expect(plan.evict.map((x) => x.metadata?.name)).toEqual(['web']);
    expect(plan.skipped.map((x) => x.pod.metadata?.name)).toEqual(['ds', 'static', 'done']);
    expect(plan.terminating.map((x) => x.metadata?.name)).toEqual(['going']);
    expect(plan.blocked.map((x) => x.pod.metadata?.name)).toEqual(['scratch', 'pinned']);
    expect(isDrainComplete(plan)).toBe(false);
    expect(
      isDrainComplete(
        planDrain(
          [
            p('ds2', {
              ownerReferences: [
                { kind: 'DaemonSet', controller: true, apiVersion: 'apps/v1', name: 'd', uid: 'u' },
              ],
            }),
          ],
          undefined,
        ),
      ),
    ).toBe(true);
  });
});
