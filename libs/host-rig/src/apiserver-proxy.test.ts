import type { V1Node, V1Pod, V1Service } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { nodePortBackends, podBackends } from './apiserver-proxy.ts';

const pod = (ip: string | undefined, ready: boolean, terminating = false): V1Pod => ({
  metadata: { name: `apiserver-${ip}`, ...(terminating ? { deletionTimestamp: new Date() } : {}) },
  spec: { containers: [{ name: 'kube-apiserver', ports: [{ name: 'https', containerPort: 6443 }] }] },
  status: {
    ...(ip ? { podIP: ip } : {}),
    conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
  },
});

const node = (ip: string, ready: boolean, unschedulable = false): V1Node => ({
  metadata: { name: `node-${ip}` },
  spec: { unschedulable },
  status: {
    addresses: [
      { type: 'Hostname', address: `node-${ip}` },
      { type: 'InternalIP', address: ip },
    ],
    conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
  },
});

const service = (nodePort: number | undefined): V1Service => ({
  metadata: { name: 'web-apiserver' },
  spec: { ports: [{ name: 'https', port: 6443, ...(nodePort ? { nodePort } : {}) }] },
});

describe('podBackends', () => {
  it('forwards to Ready pods only, never to one terminating or without an address', () => {
    expect(
      podBackends([
        pod('10.0.0.1', true),
        pod('10.0.0.2', false),
        pod('10.0.0.3', true, true),
        pod(undefined, true),
        pod('10.0.0.4', true),
      ]),
    ).toEqual(['10.0.0.1:6443', '10.0.0.4:6443']);
  });
});

describe('nodePortBackends', () => {
  it("forwards to the Service's NodePort on every Ready, schedulable Node", () => {
    expect(
      nodePortBackends(service(31443), [
        node('10.213.0.10', true),
        node('10.213.0.11', false),
        node('10.213.0.12', true, true),
        node('10.213.0.13', true),
      ]),
    ).toEqual(['10.213.0.10:31443', '10.213.0.13:31443']);
  });

  it('has nowhere to go while the Service has no NodePort, or there is no Service', () => {
    expect(nodePortBackends(service(undefined), [node('10.213.0.10', true)])).toEqual([]);
    expect(nodePortBackends(undefined, [node('10.213.0.10', true)])).toEqual([]);
  });
});
