import { KubeConfig } from '@kubernetes/client-node';
import type { ClusterStatus } from '@kok/api';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { redirected } from './biz-connection.ts';
import type { NodeTierReport } from './node-tier.ts';
import { withNodeTier } from './node-tier.ts';

const now = new Date('2026-01-01T00:00:00Z');
const later = new Date('2026-01-01T01:00:00Z');

const controlPlane: ClusterStatus = {
  phase: 'Ready',
  components: { apiServer: { replicas: 1, ready: 1, version: 'v1.36.3' } },
  conditions: [
    {
      type: 'Available',
      status: 'True',
      reason: 'ControlPlaneServing',
      message: '',
      lastTransitionTime: '2026-01-01T00:00:00Z',
    },
  ],
};

const report = (installed: boolean, ready: number): NodeTierReport => ({
  conditions: [
    {
      type: 'NodeAPIInstalled',
      status: installed,
      reason: installed ? 'Installed' : 'BizAPIServerUnreachable',
      message: 'm',
    },
    {
      type: 'NodeOperatorAvailable',
      status: ready > 0,
      reason: ready > 0 ? 'Available' : 'WaitingForNodeAPI',
      message: 'n',
    },
  ],
  nodeOperator: { replicas: 1, ready, version: ready > 0 ? '0.1.0' : '' },
});

describe('withNodeTier', () => {
  it('adds the node tier to the control plane status and leaves the rest as it was', () => {
    const status = withNodeTier(controlPlane, report(true, 1), 3, now);
    expect(status.phase).toBe('Ready');
    expect(status.components).toEqual({
      apiServer: { replicas: 1, ready: 1, version: 'v1.36.3' },
      nodeOperator: { replicas: 1, ready: 1, version: '0.1.0' },
    });
    expect(status.conditions?.map((c) => [c.type, c.status])).toEqual([
      ['Available', 'True'],
      ['NodeAPIInstalled', 'True'],
      ['NodeOperatorAvailable', 'True'],
    ]);
    expect(status.conditions?.find((c) => c.type === 'NodeAPIInstalled')?.observedGeneration).toBe(3);
  });

  it('writes status.nodePools when the pools were read, and removes the conditions the report removes', () => {
    const upToDate = {
      type: 'NodePoolsUpToDate',
      status: true,
      reason: 'UpToDate',
      message: 'm',
    };
    const read = withNodeTier(
      controlPlane,
      { ...report(true, 1), conditions: [upToDate], nodePools: { pools: 2, upToDate: 2 } },
      1,
      now,
    );
    expect(read.nodePools).toEqual({ pools: 2, upToDate: 2 });
    expect(read.conditions?.map((c) => c.type)).toEqual(['Available', 'NodePoolsUpToDate']);
    const unset = withNodeTier(
      read,
      { ...report(true, 1), conditions: [], removeConditions: ['NodePoolsUpToDate'] },
      2,
      later,
    );
    expect(unset.conditions?.map((c) => c.type)).toEqual(['Available']);
  });

  it('keeps a condition the report leaves out (a retry not yet due)', () => {
    const first = withNodeTier(controlPlane, report(false, 0), 1, now);
    const retryPending = { ...report(false, 0), conditions: [] };
    expect(withNodeTier(first, retryPending, 1, later).conditions).toEqual(first.conditions);
  });

  it('is idempotent and moves transition times only on transitions: an unchanged world writes nothing', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 2 })), { minLength: 1, maxLength: 6 }),
        (steps) => {
          let status = controlPlane;
          for (const [i, [installed, ready]] of steps.entries()) {
            const next = withNodeTier(
              status,
              report(installed, ready),
              1,
              new Date(now.getTime() + i * 1000),
            );
            expect(withNodeTier(next, report(installed, ready), 1, later)).toEqual(next);
            status = next;
          }
        },
      ),
    );
  });
});

describe('redirected', () => {
  it('dials another address, verifying the certificate against the name the kubeconfig had', () => {
    const config = new KubeConfig();
    config.loadFromOptions({
      clusters: [{ name: 'real', server: 'https://real-apiserver.biz.svc:6443', caData: 'Y2E=' }],
      users: [{ name: 'admin', certData: 'Y2VydA==', keyData: 'a2V5' }],
      contexts: [{ name: 'real', cluster: 'real', user: 'admin' }],
      currentContext: 'real',
    });
    const pod = redirected(config, 'https://127.1.0.3:6443', 'real-apiserver.biz.svc');
    expect(pod.getCurrentCluster()).toMatchObject({
      server: 'https://127.1.0.3:6443',
      tlsServerName: 'real-apiserver.biz.svc',
      caData: 'Y2E=',
    });
    expect(pod.getCurrentUser()).toMatchObject({ certData: 'Y2VydA==', keyData: 'a2V5' });
    expect(config.getCurrentCluster()?.server).toBe('https://real-apiserver.biz.svc:6443');
  });
});
