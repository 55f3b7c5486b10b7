import { describe, expect, it } from 'vitest';
import type { StackRecord } from './stack-record.ts';
import type { ProcessEntry } from './status.ts';
import { descendantProcesses, renderStatus } from './status.ts';

const p = (pid: number, ppid: number, command = `proc-${pid}`): ProcessEntry => ({ pid, ppid, command });

describe('descendantProcesses', () => {
  const table = [p(1, 0), p(10, 1, 'kok up'), p(11, 10), p(12, 10), p(13, 11), p(20, 1), p(21, 20)];
  it.each([
    { root: 10, pids: [10, 11, 13, 12], why: 'the root, then each child before its own children' },
    { root: 12, pids: [12], why: 'a leaf alone' },
    { root: 99, pids: [], why: 'nothing for a process that is gone' },
  ])('$why', ({ root, pids }) => {
    expect(descendantProcesses(table, root).map((e) => e.pid)).toEqual(pids);
  });
});

const record: StackRecord = {
  pid: 10,
  startedAt: '2026-01-01T00:00:00.000Z',
  stackDir: '/state/stack',
  controlPlane: 'processes',
  metaKubeconfigPath: '/state/stack/meta.kubeconfig',
  bizKubeconfigPath: '/state/stack/biz.kubeconfig',
  binDir: '/cache/bin',
  cluster: { namespace: 'demo', name: 'demo' },
  pool: 'workers',
  machines: ['worker-0', 'worker-1'],
  hosts: { kind: 'stand-in', where: 'stand-ins', kubeletVersions: ['v1.36.1'], templates: {} },
};

describe('renderStatus', () => {
  it('says nothing runs when nothing does', () => {
    expect(renderStatus({ state: 'stopped', stateDir: '/state' })).toBe(
      'kok is not running (nothing recorded in /state).',
    );
  });

  it('says a stack is starting before it has recorded what runs', () => {
    expect(renderStatus({ state: 'starting', stateDir: '/state', pid: 10 })).toMatch(
      /^kok is starting \(pid 10\)/,
    );
  });

  it('lists the processes, kubeconfigs, Clusters and pools of a running stack', () => {
    const text = renderStatus({
      state: 'running',
      stateDir: '/state',
      repositoryRoot: '/repo',
      record,
      processes: [p(10, 1, 'node kok up'), p(11, 10, 'etcd --data-dir /state/stack/etcd')],
      clusters: ['demo/demo  Running  v1.36.3  Available=True'],
      pools: ['workers  2/2 ready, 2 updated'],
    });
    expect(text).toMatch(/^kok is running \(pid 10,/);
    expect(text).toContain('Processes (2):');
    expect(text).toContain('     11  etcd --data-dir /state/stack/etcd');
    expect(text).toContain('meta-cluster  /state/stack/meta.kubeconfig');
    expect(text).toContain('biz-cluster   /state/stack/biz.kubeconfig');
    expect(text).toContain('Clusters (meta-cluster; their control planes run as local processes):');
    expect(text).toContain('  demo/demo  Running  v1.36.3  Available=True');
    expect(text).toContain(
      'NodePools (biz-cluster demo; 2 stand-in hosts):\n  workers  2/2 ready, 2 updated',
    );
    expect(text).toContain('export PATH=/repo/node_modules/.bin:/cache/bin:$PATH');
  });
});
