import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { containerEnv } from './pod-environment.ts';

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
