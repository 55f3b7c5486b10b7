import type { V1Deployment, V1Secret } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { pkiSpecs } from '../pki/certificates.ts';
import { templateHashOf } from '../template-hash.ts';
import type { RenderContext } from './component.ts';
import { etcd } from './etcd.ts';
import { apiServer, apiServerArgs } from './kube-apiserver.ts';
import { renderNetworkPolicies } from './network-policies.ts';
import { APISERVER_CLUSTER_IP, renderContext } from './render-fixtures.ts';
import { services } from './services.ts';

const ENDPOINTS = ['https://etcd-a.example.internal:2379', 'https://etcd-b.example.internal:2379'];
const userSecret = (caCrt: string): V1Secret => ({
  metadata: { name: 'etcd-client', namespace: 'fleet' },
  data: { 'ca.crt': caCrt, 'tls.crt': 'Y2VydA==', 'tls.key': 'a2V5' },
});

async function externalContext(
  options: { secret?: V1Secret | undefined; replicas?: number } = {},
): Promise<RenderContext> {
  const ctx = await renderContext({
    etcd: {
      ...(options.replicas ? { replicas: options.replicas } : {}),
      external: { endpoints: ENDPOINTS, tlsSecretRef: { name: 'etcd-client' } },
    },
  });
  const secret = 'secret' in options ? options.secret : userSecret('Y2E=');
  return { ...ctx, ...(secret ? { externalEtcdSecret: secret } : {}) };
}

const kinds = (objects: readonly { kind?: string; metadata?: { name?: string } }[]) =>
  objects.map((o) => `${o.kind}/${o.metadata?.name}`);

describe('a Cluster with spec.etcd.external', () => {
  it('runs no etcd: no StatefulSet, no etcd Services, no etcd NetworkPolicy', async () => {
    const ctx = await externalContext();
    expect(etcd.render(ctx)).toEqual([]);
    expect(kinds(services.render(ctx) ?? [])).toEqual([`Service/${ctx.names.apiServerService}`]);
    expect(kinds(renderNetworkPolicies(ctx))).not.toContain(`NetworkPolicy/${ctx.names.etcd}`);
    expect(kinds(renderNetworkPolicies(ctx))).toContain(`NetworkPolicy/${ctx.names.apiServer}`);
  });

  it('makes no etcd CA and no certificate signed by one', async () => {
    const ctx = await externalContext();
    const secrets = pkiSpecs({ ...ctx, apiServerClusterIP: APISERVER_CLUSTER_IP }).map((s) => s.secretName);
    const s = ctx.names.secrets;
    for (const etcdSecret of [s.etcdCA, s.etcdServer, s.etcdPeer, s.apiServerEtcdClient])
      expect(secrets).not.toContain(etcdSecret);
    expect(secrets).toContain(s.ca);
    expect(secrets).toContain(s.apiServerServing);
  });

  it('reports etcd as given: the apiserver gate opens, and its readiness tells whether etcd is reached', async () => {
    const ctx = await externalContext();
    expect(etcd.status([], [], ctx)).toMatchObject({
      available: true,
      availableAtDesired: true,
      reason: 'ExternalEtcd',
      message: expect.stringContaining(ENDPOINTS.join(', ')),
    });
  });

  it("points the apiserver at the endpoints, with the user's Secret as its etcd CA and client certificate", async () => {
    const ctx = await externalContext();
    const args = apiServerArgs(ctx.cluster, ctx.names);
    expect(args).toContain(`--etcd-servers=${ENDPOINTS.join(',')}`);
    expect(args).toContain('--etcd-cafile=/etc/kubernetes/pki/etcd/ca.crt');
    expect(args).toContain('--etcd-certfile=/etc/kubernetes/pki/apiserver-etcd-client.crt');
    expect(args).toContain('--etcd-keyfile=/etc/kubernetes/pki/apiserver-etcd-client.key');
    const [deployment] = apiServer.render(ctx) as V1Deployment[];
    const sources = deployment?.spec?.template.spec?.volumes?.[0]?.projected?.sources ?? [];
    expect(sources.find((source) => source.secret?.name === 'etcd-client')?.secret?.items).toEqual([
      { key: 'ca.crt', path: 'etcd/ca.crt' },
      { key: 'tls.crt', path: 'apiserver-etcd-client.crt' },
      { key: 'tls.key', path: 'apiserver-etcd-client.key' },
    ]);
    const mounted = sources.map((source) => source.secret?.name);
    expect(mounted).not.toContain(ctx.names.secrets.etcdCA);
    expect(mounted).not.toContain(ctx.names.secrets.apiServerEtcdClient);
  });

  it("rolls the apiserver when the Secret's content changes, not when the unused etcd.replicas does", async () => {
    const hash = async (ctx: RenderContext) => templateHashOf((apiServer.render(ctx) as V1Deployment[])[0]);
    const before = await hash(await externalContext());
    expect(await hash(await externalContext({ secret: userSecret('bmV3LWNh') }))).not.toBe(before);
    expect(await hash(await externalContext({ replicas: 5 }))).toBe(before);
  });

  it('renders no apiserver until the Secret was read', async () => {
    expect(apiServer.render(await externalContext({ secret: undefined }))).toBeUndefined();
  });
});
