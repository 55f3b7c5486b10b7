import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { renderKubeconfig } from './kubeconfig.ts';

describe('renderKubeconfig', () => {
  it('inlines the CA and client certificate under one current context', () => {
    const text = renderKubeconfig({
      clusterName: 'biz-1',
      server: 'https://10.1.2.3:6443',
      certificateAuthorityPem: 'CA',
      userName: 'admin',
      credentials: { clientCertificatePem: 'CERT', clientKeyPem: 'KEY' },
      namespace: 'kube-system',
    });
    const config = parse(text);
    expect(config['current-context']).toBe('admin@biz-1');
    expect(config.clusters[0].cluster.server).toBe('https://10.1.2.3:6443');
    expect(Buffer.from(config.clusters[0].cluster['certificate-authority-data'], 'base64').toString()).toBe(
      'CA',
    );
    expect(Buffer.from(config.users[0].user['client-certificate-data'], 'base64').toString()).toBe('CERT');
    expect(Buffer.from(config.users[0].user['client-key-data'], 'base64').toString()).toBe('KEY');
    expect(config.contexts[0].context).toEqual({ cluster: 'biz-1', user: 'admin', namespace: 'kube-system' });
  });

  it('supports bearer tokens', () => {
    const config = parse(
      renderKubeconfig({
        clusterName: 'c',
        server: 'https://h:1',
        certificateAuthorityPem: 'CA',
        userName: 'sa',
        credentials: { token: 't0k3n' },
      }),
    );
    expect(config.users[0].user).toEqual({ token: 't0k3n' });
  });

  it('refuses a plain-http server', () => {
    expect(() =>
      renderKubeconfig({
        clusterName: 'c',
        server: 'http://h:1',
        certificateAuthorityPem: 'CA',
        userName: 'u',
        credentials: { token: 't' },
      }),
    ).toThrow(/https URL/);
  });
});
