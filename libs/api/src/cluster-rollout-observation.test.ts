import { describe, expect, it } from 'vitest';
import { Annotations } from './well-known.ts';
import { readRecord, recordValue, ROLLOUT_RECORD_ANNOTATION } from './cluster-rollout-record.ts';
import type { ClusterObject } from './cluster-rollout-observation.ts';
import { observeCluster } from './cluster-rollout-observation.ts';

const UID = 'rollout-uid';
const record = recordValue({
  rollout: 'r',
  uid: UID,
  wave: 'early',
  version: 'v1.36.4',
  startedAt: Date.parse('2026-01-01T00:00:00Z'),
});

function cluster(overrides: {
  generation?: number;
  observedGeneration?: number;
  current?: string;
  available?: boolean;
  progressing?: boolean;
  settledAt?: string;
  degradedReason?: string;
  degradedGeneration?: number;
  annotations?: Record<string, string>;
}): ClusterObject & { apiVersion: string; kind: string } {
  const generation = overrides.generation ?? 2;
  return {
    apiVersion: 'clusters.kok.dev/v1alpha1',
    kind: 'Cluster',
    metadata: { name: 'c', generation, labels: { tier: 'prod' }, annotations: overrides.annotations ?? {} },
    spec: { version: 'v1.36.4' },
    status: {
      observedGeneration: overrides.observedGeneration ?? generation,
      version: {
        current: overrides.current ?? 'v1.36.4',
        history: [
          {
            version: 'v1.36.4',
            state: 'Completed',
            startedTime: '2026-01-01T00:00:00Z',
            completionTime: '2026-01-01T00:01:00Z',
          },
        ],
      },
      conditions: [
        {
          type: 'Available',
          status: overrides.available === false ? 'False' : 'True',
          reason: 'x',
          message: '',
          lastTransitionTime: '2026-01-01T00:00:30Z',
        },
        {
          type: 'Progressing',
          status: overrides.progressing ? 'True' : 'False',
          reason: 'x',
          message: '',
          lastTransitionTime: overrides.settledAt ?? '2026-01-01T00:00:30Z',
        },
        {
          type: 'Degraded',
          status: overrides.degradedReason ? 'True' : 'False',
          reason: overrides.degradedReason ?? 'AsExpected',
          message: 'apiServer did not become Available',
          observedGeneration: overrides.degradedGeneration ?? generation,
          lastTransitionTime: '2026-01-01T00:00:30Z',
        },
      ],
    },
  };
}

describe('observeCluster', () => {
  it('is Available at the version from the latest of completion and the Available and Progressing transitions', () => {
    expect(observeCluster(cluster({}), UID).availableSince).toBe(Date.parse('2026-01-01T00:01:00Z'));
    expect(observeCluster(cluster({ settledAt: '2026-01-01T00:02:00Z' }), UID).availableSince).toBe(
      Date.parse('2026-01-01T00:02:00Z'),
    );
  });

  it.each([
    ['the status is about an older generation', { observedGeneration: 1 }],
    ['the components run another version', { current: 'v1.36.3' }],
    ['it is not Available', { available: false }],
    ['it is rolling something out again', { progressing: true }],
  ])('is not Available at the version when %s', (_, overrides) => {
    expect(observeCluster(cluster(overrides), UID).availableSince).toBeUndefined();
  });

  it('is held when Degraded at the current generation for anything but its own rollback', () => {
    expect(observeCluster(cluster({ degradedReason: 'KubeletVersionSkew' }), UID).held).toBe(
      'KubeletVersionSkew: apiServer did not become Available',
    );
    expect(observeCluster(cluster({ degradedReason: 'ProgressDeadlineExceeded' }), UID)).not.toHaveProperty(
      'held',
    );
    expect(observeCluster(cluster({}), UID)).not.toHaveProperty('held');
    // The hold names the current spec though the rest of the status is older (a held Cluster keeps it).
    expect(
      observeCluster(cluster({ degradedReason: 'KubeletVersionSkew', observedGeneration: 1 }), UID).held,
    ).toBe('KubeletVersionSkew: apiServer did not become Available');
    // A hold of an older spec: not about what the rollout asked for.
    expect(
      observeCluster(cluster({ degradedReason: 'KubeletVersionSkew', degradedGeneration: 1 }), UID),
    ).not.toHaveProperty('held');
  });

  it('fails only when Degraded after its own rollback at the current generation', () => {
    expect(observeCluster(cluster({ degradedReason: 'ProgressDeadlineExceeded' }), UID).failure).toBe(
      'apiServer did not become Available',
    );
    expect(observeCluster(cluster({ degradedReason: 'ApplyFailed' }), UID).failure).toBeUndefined();
    expect(
      observeCluster(cluster({ degradedReason: 'ProgressDeadlineExceeded', observedGeneration: 1 }), UID)
        .failure,
    ).toBeUndefined();
  });

  it('is paused by spec.paused or the pause annotation, as the Cluster reconciler reads them', () => {
    const paused = cluster({});
    paused.spec.paused = true;
    expect(observeCluster(paused, UID).paused).toBe(true);
    expect(observeCluster(cluster({ annotations: { [Annotations.clusterPaused]: '' } }), UID).paused).toBe(
      true,
    );
    expect(observeCluster(cluster({}), UID)).not.toHaveProperty('paused');
  });

  it("reads this rollout's record and ignores another rollout's", () => {
    const annotations = { [ROLLOUT_RECORD_ANNOTATION]: record };
    expect(observeCluster(cluster({ annotations }), UID).record).toEqual({
      wave: 'early',
      version: 'v1.36.4',
      startedAt: Date.parse('2026-01-01T00:00:00Z'),
    });
    expect(observeCluster(cluster({ annotations }), 'other').record).toBeUndefined();
  });
});

describe('observeCluster with spec.nodePools', () => {
  const components = [{ name: 'kubelet', version: 'v1.36.4' }];
  function withPools(upToDate: { status: 'True' | 'False'; observedGeneration: number } | undefined) {
    const c = cluster({});
    c.spec.nodePools = { components };
    if (upToDate)
      c.status?.conditions?.push({
        type: 'NodePoolsUpToDate',
        reason: 'x',
        message: '',
        lastTransitionTime: '2026-01-01T00:03:00Z',
        ...upToDate,
      });
    return c;
  }

  it('reads the pool versions and when the pools were reported up to date for the current spec', () => {
    expect(observeCluster(withPools({ status: 'True', observedGeneration: 2 }), UID)).toMatchObject({
      nodePools: components,
      nodePoolsUpToDateSince: Date.parse('2026-01-01T00:03:00Z'),
    });
  });

  it.each([
    ['no condition yet', undefined],
    ['pools still moving', { status: 'False' as const, observedGeneration: 2 }],
    ['reported for an older spec', { status: 'True' as const, observedGeneration: 1 }],
  ])('has no up-to-date time with %s', (_, upToDate) => {
    expect(observeCluster(withPools(upToDate), UID)).not.toHaveProperty('nodePoolsUpToDateSince');
  });

  it('has neither without spec.nodePools', () => {
    const observed = observeCluster(cluster({}), UID);
    expect(observed).not.toHaveProperty('nodePools');
    expect(observed).not.toHaveProperty('nodePoolsUpToDateSince');
  });
});

describe('cluster record', () => {
  it('round-trips, failure included', () => {
    const failed = {
      rollout: 'r',
      uid: UID,
      wave: 'w',
      version: 'v1.36.4',
      startedAt: Date.parse('2026-01-01T00:00:00Z'),
      failedAt: Date.parse('2026-01-01T00:05:00Z'),
      failure: 'rolled back',
    };
    expect(readRecord({ [ROLLOUT_RECORD_ANNOTATION]: recordValue(failed) })).toEqual(failed);
  });

  it.each([
    '',
    'not json',
    '{"rollout":"r"}',
    '{"rollout":"r","uid":"u","wave":"w","version":"v","startedAt":"x"}',
  ])('ignores an unreadable annotation %j', (value) => {
    expect(readRecord({ [ROLLOUT_RECORD_ANNOTATION]: value })).toBeUndefined();
  });
});
