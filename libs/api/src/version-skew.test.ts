import { describe, expect, it } from 'vitest';
import { kubeletSkewChecks, kubeletVersionSkewProblem } from './version-skew.ts';

describe('kubelet version skew', () => {
  it.each([
    ['v1.36.3', 'v1.36.0', undefined],
    ['v1.33.9', 'v1.36.0', undefined],
    ['v1.34.0-kwok', 'v1.37.1', undefined],
    [
      'v1.32.4',
      'v1.36.0',
      'kubelet v1.32.4 is 4 minor versions older than the apiserver v1.36.0 (at most 3 allowed)',
    ],
    [
      'v1.37.0',
      'v1.36.5',
      'kubelet v1.37.0 is newer than the apiserver v1.36.5; upgrade the control plane first',
    ],
    ['fake', 'v1.36.0', 'kubelet version "fake" is not a Kubernetes version like v1.36.3'],
    ['v1.36.0', 'latest', 'cannot check version skew: the apiserver reports version "latest"'],
  ])('kubelet %s, apiserver %s → %s', (kubelet, apiServer, problem) => {
    const found = kubeletVersionSkewProblem(kubelet, apiServer);
    if (problem === undefined) expect(found).toBeUndefined();
    else expect(found).toContain(problem);
  });

  it('takes the allowed lag as an argument', () => {
    expect(kubeletVersionSkewProblem('v1.35.0', 'v1.36.0', 0)).toContain('(at most 0 allowed)');
  });
});

describe('kubeletSkewChecks', () => {
  it('checks every kubelet against the apiserver version, sorted by Node', () => {
    expect(
      kubeletSkewChecks(
        [
          { node: 'b', kubeletVersion: 'v1.33.0' },
          { node: 'a', kubeletVersion: 'v1.35.2' },
        ],
        'v1.37.0',
      ),
    ).toEqual([
      { node: 'a', kubeletVersion: 'v1.35.2' },
      {
        node: 'b',
        kubeletVersion: 'v1.33.0',
        problem:
          'kubelet v1.33.0 is 4 minor versions older than the apiserver v1.37.0 (at most 3 allowed); roll out a newer kubelet',
      },
    ]);
  });

  it('takes the allowed lag as an argument', () => {
    expect(kubeletSkewChecks([{ node: 'a', kubeletVersion: 'v1.36.0' }], 'v1.37.0', 0)[0]?.problem).toContain(
      '(at most 0 allowed)',
    );
  });
});
