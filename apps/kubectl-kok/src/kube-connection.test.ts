import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, describe, expect, it } from 'vitest';
import { CommandError } from './cli-errors.ts';
import { apiServerTrust } from './kube-connection.ts';

const CA = '-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n';
const dir = mkdtempSync(join(tmpdir(), 'kubectl-kok-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function kubeConfigWith(cluster: {
  server: string;
  caData?: string;
  caFile?: string;
  skipTLSVerify?: boolean;
}) {
  const config = new KubeConfig();
  config.loadFromOptions({
    clusters: [{ name: 'biz', skipTLSVerify: false, ...cluster }],
    users: [{ name: 'admin', token: 't' }],
    contexts: [{ name: 'biz', cluster: 'biz', user: 'admin' }],
    currentContext: 'biz',
  });
  return config;
}

describe('apiServerTrust', () => {
  it('takes the CA inline from certificate-authority-data', () => {
    const trust = apiServerTrust(
      kubeConfigWith({ server: 'https://api.biz:6443', caData: Buffer.from(CA).toString('base64') }),
    );
    expect(trust).toEqual({
      clusterName: 'biz',
      server: 'https://api.biz:6443',
      certificateAuthorityPem: CA,
    });
  });

  it('reads the certificate-authority file otherwise', () => {
    const file = join(dir, 'ca.crt');
    writeFileSync(file, CA);
    expect(apiServerTrust(kubeConfigWith({ server: 'https://api.biz:6443', caFile: file }))).toMatchObject({
      certificateAuthorityPem: CA,
    });
  });

  it.each<[string, Parameters<typeof kubeConfigWith>[0], string]>([
    [
      'no CA at all',
      { server: 'https://api.biz:6443', skipTLSVerify: true },
      'kubeconfig cluster "biz" names no CA (certificate-authority-data or certificate-authority)',
    ],
    [
      'a CA file that is not there',
      { server: 'https://api.biz:6443', caFile: '/nonexistent/ca.crt' },
      'cannot read the CA file /nonexistent/ca.crt of kubeconfig cluster "biz"',
    ],
    [
      'a plain-http apiserver',
      { server: 'http://api.biz:8080', caData: Buffer.from(CA).toString('base64') },
      'kubeconfig cluster "biz" has server http://api.biz:8080: kubelets join only over https',
    ],
  ])('refuses %s, saying what to fix', (_, cluster, message) => {
    let error: unknown;
    try {
      apiServerTrust(kubeConfigWith(cluster));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CommandError);
    expect((error as Error).message).toContain(message);
  });
});
