import { KubeConfig } from '@kubernetes/client-node';
import { describeCertificate, isSignedBy } from '@kok/pki';
import { describe, expect, it } from 'vitest';
import { pkiSpecs } from '../pki/certificates.ts';
import { resolveCluster } from '../cluster-spec.ts';
import { endpointOf } from '../endpoint.ts';
import { clusterNames } from '../names.ts';
import { ensurePki } from '../pki/pki-material.ts';
import { superAdminKubeconfig } from './super-admin.ts';

describe("the operator's break-glass credential", () => {
  it('is system:masters, signed by the cluster CA, for the endpoint, and expires within the hour', async () => {
    const cluster = resolveCluster({
      metadata: { name: 'prod', namespace: 'fleet' },
      spec: { version: 'v1.36.3' },
    });
    const names = clusterNames('fleet', 'prod');
    const endpoint = endpointOf(cluster, names, undefined);
    const pki = await ensurePki(
      pkiSpecs({ cluster, names, endpoint, apiServerClusterIP: '10.0.0.42' }),
      new Map(),
    );
    const now = new Date();
    const config = new KubeConfig();
    config.loadFromString(await superAdminKubeconfig(pki, names, endpoint, now));
    const certificate = Buffer.from(config.getCurrentUser()?.certData ?? '', 'base64').toString();
    const ca = pki.secrets.find((s) => s.metadata?.name === 'prod-ca');
    const caPem = Buffer.from(ca?.data?.['tls.crt'] ?? '', 'base64').toString();
    expect(describeCertificate(certificate)).toMatchObject({
      commonName: 'kok-super-admin',
      organizations: ['system:masters'],
      extendedKeyUsages: ['clientAuth'],
    });
    expect(isSignedBy(certificate, caPem)).toBe(true);
    expect(config.getCurrentCluster()?.server).toBe(endpoint.url);
    const { notAfter } = describeCertificate(certificate);
    expect(notAfter.getTime()).toBeLessThanOrEqual(now.getTime() + 60 * 60 * 1000);
    expect(notAfter.getTime()).toBeGreaterThan(now.getTime() + 59 * 60 * 1000);
  });
});
