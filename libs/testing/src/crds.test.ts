import { describe, expect, it } from 'vitest';
import { committedCrds } from './crds.ts';

describe('committedCrds', () => {
  it.each([
    ['nodes.kok.dev', ['components', 'machines', 'nodepools', 'remediationpolicies']],
    ['clusters.kok.dev', ['clusterrollouts', 'clusters']],
  ])('reads every CRD of %s from crds/', (group, plurals) => {
    const crds = committedCrds(group);
    expect(crds.map((crd) => crd.metadata.name).sort()).toEqual(
      plurals.map((plural) => `${plural}.${group}`),
    );
    for (const crd of crds) expect(crd.kind).toBe('CustomResourceDefinition');
  });

  it('fails for a group without CRDs rather than installing nothing', () => {
    expect(() => committedCrds('nothing.kok.dev')).toThrow('no CRDs of nothing.kok.dev');
  });
});
