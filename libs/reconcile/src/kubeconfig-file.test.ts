import { mkdtempSync, writeFileSync } from 'node:fs';
import type { RequestOptions } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { KubeconfigFile } from './kubeconfig-file.ts';

const b64 = (text: string) => Buffer.from(text).toString('base64');

function kubeconfig(cluster: Record<string, unknown>, user: Record<string, unknown>): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    'current-context': 'ctx',
    clusters: [
      { name: 'other', cluster: { server: 'https://wrong:1' } },
      { name: 'c', cluster: { server: 'https://10.0.0.1:6443', ...cluster } },
    ],
    users: [{ name: 'u', user }],
    contexts: [{ name: 'ctx', context: { cluster: 'c', user: 'u' } }],
  });
}

async function tlsOf(file: KubeconfigFile): Promise<RequestOptions> {
  const options: RequestOptions = {};
  await file.applyToHTTPSOptions(options);
  return options;
}

describe('KubeconfigFile', () => {
  it('takes the current context: server, inline CA, client certificate and key, TLS server name', async () => {
    const file = KubeconfigFile.parse(
      kubeconfig(
        { 'certificate-authority-data': b64('CA'), 'tls-server-name': 'api.example' },
        { 'client-certificate-data': b64('CERT'), 'client-key-data': b64('KEY') },
      ),
    );
    expect(file.getCurrentCluster()).toEqual({ name: 'c', server: 'https://10.0.0.1:6443' });
    expect(await tlsOf(file)).toEqual({ ca: 'CA', cert: 'CERT', key: 'KEY', servername: 'api.example' });
    expect(file.clientCertificatePem()).toBe('CERT');
  });

  it('reads files relative to the kubeconfig, a bearer token, and skips verification only when told', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kok-kubeconfig-'));
    writeFileSync(join(dir, 'ca.crt'), 'CA FILE');
    writeFileSync(join(dir, 'token'), 'from-file\n');
    writeFileSync(
      join(dir, 'config'),
      kubeconfig(
        { 'certificate-authority': 'ca.crt', 'insecure-skip-tls-verify': true },
        { tokenFile: 'token' },
      ),
    );
    const file = KubeconfigFile.load(join(dir, 'config'));
    expect(await tlsOf(file)).toEqual({
      ca: 'CA FILE',
      rejectUnauthorized: false,
      headers: { authorization: 'Bearer from-file' },
    });
    // The token file is read on every request: a rotated token is used at once.
    writeFileSync(join(dir, 'token'), 'rotated');
    expect((await tlsOf(file)).headers).toEqual({ authorization: 'Bearer rotated' });
    expect((await tlsOf(KubeconfigFile.parse(kubeconfig({}, { token: 'inline' })))).headers).toEqual({
      authorization: 'Bearer inline',
    });
  });

  it('says what is missing', () => {
    expect(() => KubeconfigFile.parse('clusters: []')).toThrow(/no context ""/);
    expect(() =>
      KubeconfigFile.parse(
        stringify({
          'current-context': 'x',
          contexts: [{ name: 'x', context: { cluster: 'nowhere', user: 'u' } }],
        }),
      ),
    ).toThrow(/cluster "nowhere" has no server/);
  });

  it('writes a kubeconfig with the same cluster and a new client certificate, and reloads in place', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kok-kubeconfig-'));
    writeFileSync(join(dir, 'ca.crt'), 'CA FILE');
    const bootstrap = KubeconfigFile.parse(
      kubeconfig({ 'certificate-authority': 'ca.crt', 'tls-server-name': 'api.example' }, { token: 't' }),
      dir,
    );
    const issued = bootstrap.withClientCertificate('system:node-agent:w1', 'NEW CERT', 'NEW KEY');
    const file = KubeconfigFile.parse(issued, '/nowhere');
    expect(file.getCurrentCluster()).toEqual({ name: 'c', server: 'https://10.0.0.1:6443' });
    expect(await tlsOf(file)).toEqual({
      ca: 'CA FILE',
      cert: 'NEW CERT',
      key: 'NEW KEY',
      servername: 'api.example',
    });

    bootstrap.reload(issued);
    expect(bootstrap.clientCertificatePem()).toBe('NEW CERT');
    expect((await tlsOf(bootstrap)).headers).toBeUndefined();
  });

  it('in a pod, needs the service host', () => {
    expect(() => KubeconfigFile.inCluster({})).toThrow(/KUBERNETES_SERVICE_HOST is unset/);
  });
});
