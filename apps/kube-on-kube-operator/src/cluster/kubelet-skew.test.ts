import { ClusterConditions, PROGRESS_DEADLINE_EXCEEDED } from '@kok/api';
import type { ClusterStatus, KubeletsObserved } from '@kok/api';
import { describe, expect, it } from 'vitest';
import { KUBELET_SKEW_RECHECK_MS, kubeletCheckDue, kubeletSkewHold } from './kubelet-skew.ts';

const at = (current: string | undefined, desired: string | undefined = current): ClusterStatus => ({
  version: { ...(current ? { current } : {}), ...(desired ? { desired } : {}) },
});
const rolledBack: ClusterStatus = {
  ...at('v1.36.3', 'v1.37.0'),
  observedGeneration: 2,
  conditions: [
    {
      type: ClusterConditions.Degraded,
      status: 'True',
      reason: PROGRESS_DEADLINE_EXCEEDED,
      message: 'apiServer did not become Available at v1.37.0 within 600 s: rolled back',
      observedGeneration: 2,
      lastTransitionTime: '2030-01-01T00:00:00Z',
    },
  ],
};

describe('kubeletCheckDue', () => {
  it.each<[string, ClusterStatus | undefined, string, boolean]>([
    ['a first bring-up', undefined, 'v1.36.3', false],
    ['a bring-up not finished yet', at(undefined, 'v1.36.3'), 'v1.37.0', false],
    ['no change', at('v1.36.3'), 'v1.36.3', false],
    ['a patch change', at('v1.36.3'), 'v1.36.4', false],
    ['a minor upgrade requested', at('v1.36.3'), 'v1.37.0', true],
    [
      'a minor upgrade requested while a patch upgrade was under way',
      at('v1.36.3', 'v1.36.4'),
      'v1.37.0',
      true,
    ],
    ['a held minor upgrade whose target changed within that minor', at('v1.36.3'), 'v1.37.1', true],
    ['a minor upgrade under way (written at the new minor)', at('v1.36.3', 'v1.37.0'), 'v1.37.0', false],
    ['a new patch of the minor being moved to', at('v1.36.3', 'v1.37.0'), 'v1.37.1', false],
    ['a rolled-back minor upgrade', rolledBack, 'v1.37.0', false],
    ['a lower minor than the one running', at('v1.37.0'), 'v1.36.3', false],
    ['a version that is not one', at('v1.36.3'), 'latest', false],
  ])('%s: %s', (_, status, target, due) => expect(kubeletCheckDue(status, target)).toBe(due));
});

describe('kubeletSkewHold', () => {
  const nodes = (...versions: [string, string][]): KubeletsObserved => ({
    readable: true,
    nodes: versions.map(([node, kubeletVersion]) => ({ node, kubeletVersion })),
  });
  const hold = (
    kubelets: KubeletsObserved | undefined,
    options: { status?: ClusterStatus; target?: string; nodeTierInstalled?: boolean } = {},
  ) =>
    kubeletSkewHold({
      status: options.status ?? at('v1.36.3'),
      targetVersion: options.target ?? 'v1.37.0',
      kubelets,
      nodeTierInstalled: options.nodeTierInstalled ?? true,
    });

  it.each<[string, KubeletsObserved | undefined, Parameters<typeof hold>[1], string | undefined]>([
    [
      'no check due (a patch change), kubelets far behind',
      nodes(['a', 'v1.30.0']),
      { target: 'v1.36.4' },
      undefined,
    ],
    ['no check due (a first bring-up)', { readable: false, reason: 'x' }, { status: {} }, undefined],
    ['every kubelet within 3 minors of the target', nodes(['a', 'v1.34.0'], ['b', 'v1.36.3']), {}, undefined],
    ['no Nodes', nodes(), {}, undefined],
    ['a Node whose kubelet never reported a version', nodes(['new', '']), {}, undefined],
    [
      'a kubelet 4 minors behind the target',
      nodes(['a', 'v1.36.3'], ['old', 'v1.33.9']),
      {},
      'KubeletVersionSkew',
    ],
    ['a kubelet newer than the target', nodes(['ahead', 'v1.38.0']), {}, 'KubeletVersionSkew'],
    ['a kubelet version that is not one', nodes(['odd', 'fake']), {}, 'KubeletVersionSkew'],
    [
      'Nodes that cannot be read, with a node tier',
      { readable: false, reason: 'dial tcp: refused' },
      {},
      'KubeletVersionsUnknown',
    ],
    ['Nodes not read at all, with a node tier', undefined, {}, 'KubeletVersionsUnknown'],
    [
      'Nodes that cannot be read, no node tier ever installed',
      { readable: false, reason: 'dial tcp: refused' },
      { nodeTierInstalled: false },
      undefined,
    ],
    [
      'no node tier, but Nodes read with kubelets too old',
      nodes(['old', 'v1.32.0']),
      { nodeTierInstalled: false },
      'KubeletVersionSkew',
    ],
  ])('%s → %s', (_, kubelets, options, reason) => {
    const held = hold(kubelets, options);
    expect(held?.reason).toBe(reason);
    if (held) expect(held.requeueAfter).toBe(KUBELET_SKEW_RECHECK_MS);
  });

  it('names the Nodes too old and their versions, the allowed skew, and that the control plane stays', () => {
    expect(hold(nodes(['b', 'v1.33.0'], ['ok', 'v1.36.3'], ['a', 'v1.32.1']))?.message).toBe(
      'the upgrade to v1.37.0 waits: 2 of 3 kubelets are outside the skew policy of an apiserver at v1.37.0 ' +
        '(a kubelet may be at most 3 minor versions older, never newer): a (v1.32.1), b (v1.33.0); ' +
        'the control plane stays at v1.36.3 until those kubelets are upgraded or their Nodes are gone',
    );
  });

  it('names five Nodes and counts the rest', () => {
    const old = Array.from({ length: 8 }, (_, i): [string, string] => [`node-${i}`, 'v1.33.0']);
    const message = hold(nodes(...old))?.message ?? '';
    expect(message).toContain('8 of 8 kubelets');
    expect(message).toContain(
      'node-0 (v1.33.0), node-1 (v1.33.0), node-2 (v1.33.0), node-3 (v1.33.0), node-4 (v1.33.0) and 3 more;',
    );
    expect(message).not.toContain('node-5');
  });

  it('says why the Nodes could not be read', () => {
    expect(hold({ readable: false, reason: 'cannot reach the biz apiserver' })?.message).toBe(
      "the upgrade to v1.37.0 waits: the biz-cluster's Nodes could not be read to check their kubelets " +
        'against it (cannot reach the biz apiserver); the control plane stays at v1.36.3 until they can be',
    );
  });
});
