import { describe, expect, it } from 'vitest';
import { pausedAfterWaveValue } from '../pause-after-wave.ts';
import {
  clusterRolloutInput,
  DEFAULT_BAKE_SECONDS,
  selectedClusters,
  type ClusterRolloutSpecView,
  type SelectableCluster,
  type SelectingRollout,
} from './rollout-input.ts';

const spec = (over: Partial<ClusterRolloutSpecView> = {}): ClusterRolloutSpecView => ({
  clusterSelector: { matchLabels: { fleet: 'prod' } },
  version: 'v1.36.4',
  ...over,
});

describe('clusterRolloutInput', () => {
  it('applies the defaults of the spec', () => {
    expect(clusterRolloutInput(spec(), undefined, [], 7)).toEqual({
      version: 'v1.36.4',
      waves: [],
      bakeSeconds: DEFAULT_BAKE_SECONDS,
      maxFailed: 0,
      paused: false,
      clusters: [],
      now: 7,
    });
  });

  it('carries the node-pool versions of the spec', () => {
    const components = [{ name: 'kubelet', version: 'v1.36.4' }];
    expect(clusterRolloutInput(spec({ nodePools: { components } }), undefined, [], 7).nodePools).toEqual(
      components,
    );
  });

  it.each<[string, Partial<ClusterRolloutSpecView>, string | undefined, number | undefined]>([
    ['no pause record', {}, undefined, undefined],
    ['paused after wave 1 and still paused', { paused: true }, pausedAfterWaveValue('v1.36.4', 1), undefined],
    ['a person set paused back to false: resumed past wave 1', {}, pausedAfterWaveValue('v1.36.4', 1), 1],
    ['the record of another version means nothing', {}, pausedAfterWaveValue('v1.36.3', 1), undefined],
  ])('%s', (_, over, record, resumedAfterWave) => {
    expect(clusterRolloutInput(spec(over), record, [], 0).resumedAfterWave).toBe(resumedAfterWave);
  });
});

describe('selectedClusters', () => {
  interface Cluster extends SelectableCluster {
    name: string;
    /** The uid of the rollout recorded on it. */
    heldBy?: string;
  }
  const cluster = (name: string, labels: Record<string, string>, extra: Partial<Cluster> = {}): Cluster => ({
    name,
    metadata: { labels, ...extra.metadata },
    ...(extra.heldBy === undefined ? {} : { heldBy: extra.heldBy }),
  });
  const rollout = (uid: string, phase?: string): SelectingRollout => ({
    metadata: { uid },
    spec: spec(),
    ...(phase === undefined ? {} : { status: { phase } }),
  });
  const select = (clusters: Cluster[], others: SelectingRollout[]) =>
    selectedClusters(rollout('me'), clusters, [rollout('me'), ...others], (c) => c.heldBy).map((c) => c.name);

  it.each<[string, Cluster[], SelectingRollout[], string[]]>([
    ['by the clusterSelector', [cluster('a', { fleet: 'prod' }), cluster('b', { fleet: 'dev' })], [], ['a']],
    [
      'not one being deleted',
      [cluster('a', { fleet: 'prod' }, { metadata: { deletionTimestamp: 'now' } })],
      [],
      [],
    ],
    ['one it started itself', [cluster('a', { fleet: 'prod' }, { heldBy: 'me' })], [], ['a']],
    [
      'not one another unfinished rollout started',
      [cluster('a', { fleet: 'prod' }, { heldBy: 'other' })],
      [rollout('other', 'Failed')],
      [],
    ],
    [
      'one another rollout started and finished',
      [cluster('a', { fleet: 'prod' }, { heldBy: 'other' })],
      [rollout('other', 'Succeeded')],
      ['a'],
    ],
    [
      'one whose recorded rollout is gone',
      [cluster('a', { fleet: 'prod' }, { heldBy: 'deleted' })],
      [],
      ['a'],
    ],
  ])('%s', (_, clusters, others, expected) => {
    expect(select(clusters, others)).toEqual(expected);
  });
});
