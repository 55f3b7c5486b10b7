import { describe, expect, it } from 'vitest';
import { createBootstrapToken, nodeBootstrapRbac } from './node-bootstrap.ts';

describe('bootstrap tokens', () => {
  it('have the [a-z0-9]{6}.[a-z0-9]{16} form and a Secret the apiserver accepts as a token', () => {
    const now = new Date('2026-12-02T10:00:00.123Z');
    const token = createBootstrapToken({ ttlSeconds: 600, now, description: 'host h1' });
    expect(token.token).toMatch(/^[a-z0-9]{6}\.[a-z0-9]{16}$/);
    expect(token.token.startsWith(`${token.id}.`)).toBe(true);
    expect(token.secret).toMatchObject({
      metadata: { name: `bootstrap-token-${token.id}`, namespace: 'kube-system' },
      type: 'bootstrap.kubernetes.io/token',
      stringData: {
        'token-id': token.id,
        'token-secret': token.token.split('.')[1],
        expiration: '2026-12-02T10:10:00Z',
        'usage-bootstrap-authentication': 'true',
        description: 'host h1',
      },
    });
    expect(token.expiresAt.toISOString()).toBe('2026-12-02T10:10:00.123Z');
  });

  it('are never the same twice, and refuse a lifetime under a minute', () => {
    const tokens = new Set(Array.from({ length: 200 }, () => createBootstrapToken({ ttlSeconds: 60 }).token));
    expect(tokens.size).toBe(200);
    expect(() => createBootstrapToken({ ttlSeconds: 5 })).toThrow(/at least 60 s/);
  });
});

describe('node bootstrap RBAC', () => {
  it('binds bootstrappers to CSR creation and auto-approval, Nodes to self renewal, the apiserver to the kubelet API', () => {
    const subjects = Object.fromEntries(
      nodeBootstrapRbac('kube-apiserver-kubelet-client').map((b) => [
        (b.roleRef as { name: string }).name,
        (b.subjects as { kind: string; name: string }[]).map((s) => `${s.kind}:${s.name}`),
      ]),
    );
    expect(subjects).toEqual({
      'system:node-bootstrapper': ['Group:system:bootstrappers'],
      'system:certificates.k8s.io:certificatesigningrequests:nodeclient': ['Group:system:bootstrappers'],
      'system:certificates.k8s.io:certificatesigningrequests:selfnodeclient': ['Group:system:nodes'],
      'system:kubelet-api-admin': ['User:kube-apiserver-kubelet-client'],
    });
  });
});
