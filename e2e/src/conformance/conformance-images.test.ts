import { describe, expect, it } from 'vitest';
import { planImages } from './conformance-images.ts';

const LISTED = [
  'registry.k8s.io/e2e-test-images/agnhost:2.63.0',
  'registry.k8s.io/e2e-test-images/agnhost:2.55',
  'gcr.io/k8s-authenticated-test/agnhost:2.6',
  'registry.k8s.io/e2e-test-images/busybox:1.36.1-1',
  'registry.k8s.io/e2e-test-images/busybox:1.37.0-1',
  'registry.k8s.io/pause:3.10.2',
  'registry.k8s.io/e2e-test-images/glibc-dns-testing:2.0.0',
  'registry.k8s.io/e2e-test-images/nginx:1.27-0',
  'registry.k8s.io/e2e-test-images/nautilus:1.8',
];

describe('planImages', () => {
  it('packs agnhost only at the version its source declares, busybox, glibc-dns-testing and pause under every listed tag', () => {
    expect(planImages(LISTED, '2.63.0')).toEqual({
      agnhost: 'registry.k8s.io/e2e-test-images/agnhost:2.63.0',
      busybox: [
        'registry.k8s.io/e2e-test-images/busybox:1.36.1-1',
        'registry.k8s.io/e2e-test-images/busybox:1.37.0-1',
      ],
      glibcDnsTesting: ['registry.k8s.io/e2e-test-images/glibc-dns-testing:2.0.0'],
      pause: ['registry.k8s.io/pause:3.10.2'],
      // An older agnhost, the private-registry one and what is not built here are named, not faked.
      missing: [
        'registry.k8s.io/e2e-test-images/agnhost:2.55',
        'gcr.io/k8s-authenticated-test/agnhost:2.6',
        'registry.k8s.io/e2e-test-images/nginx:1.27-0',
        'registry.k8s.io/e2e-test-images/nautilus:1.8',
      ],
    });
  });

  it('builds no agnhost when the suite asks for another version than its source', () => {
    const plan = planImages(LISTED, '2.64.0');
    expect(plan.agnhost).toBeUndefined();
    expect(plan.missing).toContain('registry.k8s.io/e2e-test-images/agnhost:2.63.0');
  });
});
