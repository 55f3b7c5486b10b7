import { pinnedVersions } from '@kok/testing';
import { describe, expect, it } from 'vitest';
import {
  ETCD_VERSION_BY_KUBERNETES_MINOR,
  etcdVersionUnknownMessage,
  pairedEtcdVersion,
} from './etcd-versions.ts';

describe('the etcd paired with a Kubernetes minor', () => {
  it.each([
    ['v1.36.3', '3.6.16'],
    ['v1.36.0', '3.6.16'],
    ['1.36.9', '3.6.16'],
    ['v1.35.4', '3.6.16'],
    ['v1.34.0', '3.6.16'],
    ['v1.37.0', undefined],
    ['v1.33.5', undefined],
    ['v2.36.0', undefined],
    ['not-a-version', undefined],
  ])('%s → %s', (kubernetes, etcd) => {
    expect(pairedEtcdVersion(kubernetes)).toBe(etcd);
  });

  it('names only etcd releases the operator is built and tested with, for the Kubernetes it is built with', () => {
    const pinned = pinnedVersions();
    expect(new Set(Object.values(ETCD_VERSION_BY_KUBERNETES_MINOR))).toEqual(
      new Set([pinned.etcd.replace(/^v/, '')]),
    );
    expect(pairedEtcdVersion(pinned.kubernetes)).toBeDefined();
  });

  it('tells what to do for a minor it does not know', () => {
    expect(etcdVersionUnknownMessage('v1.37.0')).toBe(
      'no etcd version is paired with Kubernetes v1.37.0 (this operator pairs 1.34, 1.35, 1.36): set spec.etcd.version to the etcd release to run',
    );
  });
});
