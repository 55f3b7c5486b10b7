import type { V1Pod, V1Service } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { hostEntries, renderHostsFile } from './hosts-file.ts';

const pod = (
  name: string,
  labels: Record<string, string>,
  ready: boolean,
  extra: Partial<V1Pod['spec']> = {},
): V1Pod => ({
  metadata: { name, namespace: 'biz', uid: name, labels },
  spec: { containers: [], ...extra },
  status: { conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
});
const service = (
  name: string,
  selector: Record<string, string>,
  headless = false,
  publishNotReady = false,
): V1Service => ({
  metadata: { name, namespace: 'biz' },
  spec: { selector, ...(headless ? { clusterIP: 'None' } : {}), publishNotReadyAddresses: publishNotReady },
});
const ips: Record<string, string> = {
  'etcd-0': '127.1.0.1',
  'etcd-1': '127.1.0.2',
  'api-a': '127.1.0.3',
  'api-b': '127.1.0.4',
};
const ipOf = (p: V1Pod) => ips[p.metadata?.name ?? ''];

describe('hostEntries', () => {
  const etcdPods = [
    pod('etcd-0', { c: 'etcd' }, false, { hostname: 'etcd-0', subdomain: 'etcd' }),
    pod('etcd-1', { c: 'etcd' }, true, { hostname: 'etcd-1', subdomain: 'etcd' }),
  ];

  it('names each member of a headless Service, ready or not when it publishes not-ready addresses', () => {
    const entries = hostEntries([service('etcd', { c: 'etcd' }, true, true)], etcdPods, ipOf);
    expect(entries).toContainEqual({
      ip: '127.1.0.1',
      names: ['etcd-0.etcd.biz.svc.cluster.local', 'etcd-0.etcd.biz.svc', 'etcd-0.etcd.biz'],
    });
    expect(entries).toContainEqual({
      ip: '127.1.0.2',
      names: ['etcd-1.etcd.biz.svc.cluster.local', 'etcd-1.etcd.biz.svc', 'etcd-1.etcd.biz'],
    });
  });

  it('leaves unready members out when the headless Service does not publish them', () => {
    const entries = hostEntries([service('etcd', { c: 'etcd' }, true, false)], etcdPods, ipOf);
    expect(entries.flatMap((e) => e.names)).not.toContain('etcd-0.etcd.biz.svc');
    expect(entries.flatMap((e) => e.names)).toContain('etcd-1.etcd.biz.svc');
  });

  it('points a Service name at a Ready pod first', () => {
    const pods = [pod('api-a', { c: 'api' }, false), pod('api-b', { c: 'api' }, true)];
    expect(hostEntries([service('apiserver', { c: 'api' })], pods, ipOf)).toEqual([
      { ip: '127.1.0.4', names: ['apiserver.biz.svc.cluster.local', 'apiserver.biz.svc', 'apiserver.biz'] },
    ]);
  });

  it('skips pods without an address, terminating pods, other namespaces and selector-less Services', () => {
    const terminating = {
      ...pod('api-a', { c: 'api' }, true),
      metadata: { name: 'api-a', namespace: 'biz', labels: { c: 'api' }, deletionTimestamp: new Date() },
    };
    const elsewhere = {
      ...pod('api-b', { c: 'api' }, true),
      metadata: { name: 'api-b', namespace: 'other', labels: { c: 'api' } },
    };
    const unknown = pod('no-ip', { c: 'api' }, true);
    expect(
      hostEntries(
        [service('apiserver', { c: 'api' }), service('external', {})],
        [terminating, elsewhere, unknown],
        ipOf,
      ),
    ).toEqual([]);
  });
});

describe('renderHostsFile', () => {
  it('keeps localhost and sorts entries so equal inputs give equal files', () => {
    const a = { ip: '127.1.0.1', names: ['b.biz.svc'] };
    const b = { ip: '127.1.0.2', names: ['a.biz.svc', 'a.biz'] };
    expect(renderHostsFile([a, b])).toBe(renderHostsFile([b, a]));
    expect(renderHostsFile([a, b])).toBe(
      '127.0.0.1 localhost\n::1 localhost\n127.1.0.2 a.biz.svc a.biz\n127.1.0.1 b.biz.svc\n',
    );
  });
});
