import { describe, expect, it } from 'vitest';
import {
  auditedRequests,
  requestDelta,
  requestsByKind,
  total,
  writesAuditPolicy,
} from './apiserver-requests.ts';

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

describe('writesAuditPolicy', () => {
  it("records the group's writes, at the response only, and nothing else", () => {
    const policy = JSON.parse(writesAuditPolicy('kok:node-agents')) as {
      omitStages: string[];
      rules: { level: string; userGroups?: string[]; verbs?: string[] }[];
    };
    expect(policy.omitStages).toEqual(['RequestReceived']);
    expect(policy.rules[0]).toMatchObject({ level: 'Metadata', userGroups: ['kok:node-agents'] });
    expect(policy.rules[0]?.verbs).toEqual(expect.arrayContaining(['create', 'update', 'patch', 'delete']));
    expect(policy.rules[0]?.verbs).not.toContain('get');
    expect(policy.rules.at(-1)).toEqual({ level: 'None' });
  });
});

describe('auditedRequests', () => {
  const event = (stage: string, verb = 'patch') =>
    JSON.stringify({ kind: 'Event', stage, verb, user: { username: 'system:node-agent:m-0' } });
  it.each([
    ['', 0],
    [`${event('ResponseComplete')}\n`, 1],
    [[event('ResponseComplete'), event('ResponseStarted', 'watch'), event('Panic'), ''].join('\n'), 2],
    // The apiserver is still writing the last line.
    [[event('ResponseComplete'), event('ResponseComplete').slice(0, 40)].join('\n'), 1],
  ])('%j → %i', (log, expected) => expect(auditedRequests(log)).toBe(expected));
});
