import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { containerEnv, missingEnvReference } from './pod-environment.ts';

const pod: V1Pod = {
  metadata: { name: 'real-etcd-0', namespace: 'biz', uid: 'u1', labels: { app: 'etcd' } },
  spec: { containers: [] },
};

describe('containerEnv', () => {
  it('resolves literals, downward-API fields and references to earlier variables', () => {
    const env = containerEnv(
      pod,
      {
        name: 'c',
        env: [
          { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
          { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
          { name: 'NS', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
          { name: 'APP', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
          { name: 'SELF', value: '$(POD_NAME).$(NS).svc' },
          { name: 'TOKEN', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } },
        ],
      },
      { podIP: '127.1.0.1', nodeName: 'kok-local-runtime' },
      (kind, name, key) => (kind === 'secret' && name === 's' && key === 'k' ? 'sekret' : undefined),
    );
    expect(env).toEqual({
      POD_NAME: 'real-etcd-0',
      POD_IP: '127.1.0.1',
      NS: 'biz',
      APP: 'etcd',
      SELF: 'real-etcd-0.biz.svc',
      TOKEN: 'sekret',
    });
  });
});

describe('missingEnvReference', () => {
  const container = {
    name: 'etcd',
    env: [
      { name: 'STATE', valueFrom: { secretKeyRef: { name: 'join', key: 'state' } } },
      { name: 'PEERS', valueFrom: { secretKeyRef: { name: 'join', key: 'peers', optional: true } } },
      { name: 'MODE', valueFrom: { configMapKeyRef: { name: 'cm', key: 'mode' } } },
    ],
  };
  it.each<[string, Record<string, string>, string | undefined]>([
    [
      'every required key there, the optional one not',
      { 'secret/join/state': 'new', 'configMap/cm/mode': 'x' },
      undefined,
    ],
    [
      'a required Secret key missing',
      { 'configMap/cm/mode': 'x' },
      "couldn't find key state in Secret join (env STATE of container etcd)",
    ],
    [
      'a required ConfigMap key missing',
      { 'secret/join/state': 'new' },
      "couldn't find key mode in ConfigMap cm (env MODE of container etcd)",
    ],
  ])('%s', (_, values, expected) => {
    expect(missingEnvReference(container, (kind, name, key) => values[`${kind}/${name}/${key}`])).toBe(
      expected,
    );
  });
});
