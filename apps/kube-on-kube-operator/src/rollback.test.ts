import type { V1Deployment } from '@kubernetes/client-node';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { GateRecord } from './gate-records.ts';
import {
  availableAsIs,
  expiredGate,
  LAST_AVAILABLE_ANNOTATION,
  lastAvailableOf,
  PROGRESS_DEADLINE_ANNOTATION,
  progressDeadlineMs,
  rollbackObject,
  rolledBackHold,
  withLastAvailable,
} from './rollback.ts';
import { TEMPLATE_HASH_ANNOTATION } from './template-hash.ts';

function deployment(
  hash: string,
  tag: string,
  state: { ready: number; updated?: number } = { ready: 2 },
): V1Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: 'c-kube-apiserver',
      namespace: 'ns',
      generation: 3,
      annotations: { [TEMPLATE_HASH_ANNOTATION]: hash },
    },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'a' } },
      template: {
        metadata: { labels: { app: 'a' }, annotations: { [TEMPLATE_HASH_ANNOTATION]: hash } },
        spec: { containers: [{ name: 'kube-apiserver', image: `registry.k8s.io/kube-apiserver:${tag}` }] },
      },
    },
    status: {
      observedGeneration: 3,
      replicas: 2,
      updatedReplicas: state.updated ?? 2,
      availableReplicas: state.ready,
    },
  };
}

describe('availableAsIs', () => {
  it.each([
    ['rolled out with every replica ready', { ready: 2 }, true],
    ['rolled out, one of two ready (all but one)', { ready: 1 }, true],
    ['none ready', { ready: 0 }, false],
    ['still rolling out', { ready: 2, updated: 1 }, false],
  ])('%s', (_, state, expected) => {
    expect(availableAsIs(deployment('h1', 'v1.36.3', state))).toBe(expected);
  });
});

describe('withLastAvailable and rollbackObject', () => {
  it('remembers the observed revision when it is Available, and rolls back to it', () => {
    const old = deployment('h1', 'v1.36.3');
    const next = withLastAvailable(deployment('h2', 'v1.36.4'), old);
    expect(lastAvailableOf(next)).toEqual({ hash: 'h1', template: old.spec?.template });
    const back = rollbackObject(deployment('h2', 'v1.36.4'), next);
    expect(back?.metadata?.annotations?.[TEMPLATE_HASH_ANNOTATION]).toBe('h1');
    expect(back?.spec?.template).toEqual(old.spec?.template);
    expect(back?.spec?.replicas).toBe(2);
  });

  it('carries the remembered revision forward over a revision that never became Available', () => {
    const good = deployment('h1', 'v1.36.3');
    const broken = {
      ...withLastAvailable(deployment('h2', 'v1.36.4-bad'), good),
      status: { availableReplicas: 0 },
    };
    const third = withLastAvailable(deployment('h3', 'v1.36.5'), broken);
    expect(lastAvailableOf(third)?.hash).toBe('h1');
  });

  it('has nothing to roll back to on a first rollout, nor for objects that are not workloads', () => {
    expect(rollbackObject(deployment('h1', 'v1.36.3'), undefined)).toBeUndefined();
    const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' } };
    expect(withLastAvailable(secret, secret)).toBe(secret);
    expect(rollbackObject(secret, secret)).toBeUndefined();
  });

  it('ignores an annotation it cannot read', () => {
    const odd = deployment('h1', 'v1');
    odd.metadata = { ...odd.metadata, annotations: { [LAST_AVAILABLE_ANNOTATION]: '{not json' } };
    expect(lastAvailableOf(odd)).toBeUndefined();
  });

  it('property: after any sequence of writes, the remembered revision is the last one written that was Available', () => {
    fc.assert(
      fc.property(fc.array(fc.boolean(), { minLength: 1, maxLength: 12 }), (availability) => {
        let observed: V1Deployment | undefined;
        let lastGood: string | undefined;
        availability.forEach((becameAvailable, i) => {
          const written = withLastAvailable(deployment(`h${i}`, `v1.36.${i}`), observed);
          expect(lastAvailableOf(written)?.hash).toBe(lastGood);
          observed = {
            ...written,
            status: { ...written.status, availableReplicas: becameAvailable ? 2 : 0 },
          };
          if (becameAvailable) lastGood = `h${i}`;
        });
      }),
    );
  });
});

describe('progressDeadlineMs', () => {
  it.each([
    [undefined, 600_000],
    ['30', 30_000],
    ['0', 600_000],
    ['-5', 600_000],
    ['soon', 600_000],
  ])('annotation %s → %i ms', (value, expected) => {
    const annotations: Record<string, string> =
      value === undefined ? {} : { [PROGRESS_DEADLINE_ANNOTATION]: value };
    expect(progressDeadlineMs({ metadata: { annotations } }, 600_000)).toBe(expected);
  });
});

describe('expiredGate', () => {
  const now = new Date('2026-01-01T00:10:00Z');
  const record = (name: string, startedAt: string, completedAt?: string): GateRecord => ({
    name,
    startedAt,
    ...(completedAt ? { completedAt } : {}),
  });
  it.each([
    ['open and late', [record('A', '2026-01-01T00:00:00Z')], { open: true, available: false }, 'A'],
    [
      'open, not late yet',
      [record('A', '2026-01-01T00:09:30Z')],
      { open: true, available: false },
      undefined,
    ],
    ['late but Available', [record('A', '2026-01-01T00:00:00Z')], { open: true, available: true }, undefined],
    [
      'late but completed',
      [record('A', '2026-01-01T00:00:00Z', '2026-01-01T00:01:00Z')],
      { open: true, available: false },
      undefined,
    ],
    ['closed', [record('A', '2026-01-01T00:00:00Z')], { open: false, available: false }, undefined],
    ['no record', [], { open: true, available: false }, undefined],
  ])('%s', (_, records, g, expected) => {
    const result = expiredGate(
      records,
      [{ gate: 'A', open: g.open, availableAtDesired: g.available }],
      60_000,
      now,
    );
    expect(result?.gate).toBe(expected);
  });
});

describe('rolledBackHold', () => {
  const degraded = (reason: string, observedGeneration: number) => ({
    observedGeneration: 4,
    conditions: [
      {
        type: 'Degraded',
        status: 'True' as const,
        reason,
        message: 'm',
        observedGeneration,
        lastTransitionTime: '',
      },
    ],
  });
  it.each([
    ['same generation, deadline exceeded', degraded('ProgressDeadlineExceeded', 4), 4, true],
    ['the spec changed since', degraded('ProgressDeadlineExceeded', 4), 5, false],
    ['degraded for another reason', degraded('ApplyFailed', 4), 4, false],
    ['no status', undefined, 4, false],
  ])('%s', (_, status, generation, holds) => {
    expect(rolledBackHold(status, generation) !== undefined).toBe(holds);
  });
});
