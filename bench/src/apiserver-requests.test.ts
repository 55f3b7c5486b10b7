import { describe, expect, it } from 'vitest';
import { requestDelta, requestsByKind, total } from './apiserver-requests.ts';

const metrics = (patchStatus: number, patchMachines: number, list: number) =>
  [
    '# HELP apiserver_request_total Counter of apiserver requests',
    '# TYPE apiserver_request_total counter',
    `apiserver_request_total{code="200",component="apiserver",dry_run="",group="nodes.kok.dev",resource="machines",scope="resource",subresource="status",verb="APPLY",version="v1alpha1"} ${patchStatus}`,
    `apiserver_request_total{code="200",component="apiserver",dry_run="",group="nodes.kok.dev",resource="machines",scope="resource",subresource="",verb="PATCH",version="v1alpha1"} ${patchMachines}`,
    `apiserver_request_total{code="409",component="apiserver",dry_run="",group="nodes.kok.dev",resource="machines",scope="resource",subresource="",verb="PATCH",version="v1alpha1"} 1`,
    `apiserver_request_total{code="200",component="apiserver",dry_run="",group="",resource="nodes",scope="cluster",subresource="",verb="LIST",version="v1"} ${list}`,
    'apiserver_request_duration_seconds_count{verb="PATCH",resource="machines"} 99',
  ].join('\n');

describe('requestsByKind', () => {
  it('sums each verb and resource over the other labels, subresource apart', () => {
    expect(Object.fromEntries(requestsByKind(metrics(3, 5, 7)))).toEqual({
      'APPLY machines/status': 3,
      'PATCH machines': 6,
      'LIST nodes': 7,
    });
  });
});

describe('requestDelta', () => {
  const before = requestsByKind(metrics(3, 5, 7));
  const after = requestsByKind(metrics(10, 6, 20));
  it.each([
    [false, { 'LIST nodes': 13, 'APPLY machines/status': 7, 'PATCH machines': 1 }],
    [true, { 'APPLY machines/status': 7, 'PATCH machines': 1 }],
  ])('writes only: %s', (writesOnly, expected) => {
    const delta = requestDelta(before, after, writesOnly);
    expect(delta).toEqual(expected);
    // Largest first.
    expect(Object.keys(delta)).toEqual(Object.keys(expected));
  });
  it('counts kinds that first appear after', () => {
    expect(requestDelta(new Map(), after, true)).toEqual({
      'APPLY machines/status': 10,
      'PATCH machines': 7,
    });
    expect(total(requestDelta(new Map(), after, true))).toBe(17);
  });
});
