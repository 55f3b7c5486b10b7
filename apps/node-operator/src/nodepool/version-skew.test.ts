import { describe, expect, it } from 'vitest';
import { kubeletSkewProblem } from './version-skew.ts';

const kubelet = (version: string) => ({ components: [{ name: 'kubelet', version }] });

describe('kubeletSkewProblem', () => {
  it.each([
    ['v1.36.0', 'v1.36.3', undefined],
    ['v1.36.9', 'v1.36.3', undefined],
    ['v1.33.0', 'v1.36.3', undefined],
    ['v1.37.0', 'v1.36.3', /newer than the apiserver/],
    ['v1.32.5', 'v1.36.3', /4 minor versions older.*at most 3/],
    ['latest', 'v1.36.3', /not a Kubernetes version/],
  ])('kubelet %s on apiserver %s', (kubeletVersion, server, expected) => {
    const problem = kubeletSkewProblem(kubelet(kubeletVersion), server);
    if (expected === undefined) expect(problem).toBeUndefined();
    else expect(problem).toMatch(expected);
  });
  it('a template without a kubelet is never held', () =>
    expect(kubeletSkewProblem({}, 'v1.20.0')).toBeUndefined());
});
