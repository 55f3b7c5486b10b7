import type { V1Secret } from '@kubernetes/client-node';
import type { ClusterStatus } from '@kok/api';
import { describe, expect, it } from 'vitest';
import { pkiSpecs } from './certificates.ts';
import { ensureCertificates, withCertificates } from './certificate-lifecycle.ts';
import type { CertificateReport } from './certificate-lifecycle.ts';
import { resolveCluster } from '../cluster-spec.ts';
import { endpointOf } from '../endpoint.ts';
import { clusterNames } from '../names.ts';
import { caRotationStateOf } from './pki-material.ts';
import type { PkiMaterial } from './pki-material.ts';
import type { ClusterObject } from '../resource-types.ts';

const cluster = (caRotationGeneration?: number): ClusterObject => ({
  apiVersion: 'clusters.kok.dev/v1alpha1',
  kind: 'Cluster',
  metadata: { name: 'prod', namespace: 'fleet' },
  spec: {
    version: 'v1.36.3',
    ...(caRotationGeneration === undefined ? {} : { certificates: { caRotationGeneration } }),
  },
});

const specs = () => {
  const resolved = resolveCluster(cluster());
  const names = clusterNames('fleet', 'prod');
  return pkiSpecs({ cluster: resolved, names, endpoint: endpointOf(resolved, names, undefined) });
};
const byName = (material: PkiMaterial) =>
  new Map<string, V1Secret>(material.secrets.map((s) => [s.metadata?.name ?? '', s]));
const now = new Date('2030-01-01T00:00:00Z');

async function step(generation: number, existing: Map<string, V1Secret>, settled: boolean, held = false) {
  let asked = 0;
  const report = await ensureCertificates({
    cluster: cluster(generation),
    specs: specs(),
    existing,
    options: {},
    now,
    held,
    settled: () => {
      asked++;
      return settled;
    },
  });
  return { report, asked, secrets: byName(report.material) };
}

describe('ensureCertificates', () => {
  it('asks whether consumers settled only when a phase could begin', async () => {
    const start = await step(0, new Map(), true);
    expect(start.asked).toBe(0);
    expect(start.report.rotation.advanced).toBe(false);
    const again = await step(0, start.secrets, true);
    expect(again.asked).toBe(0);
  });

  it.each([
    ['not settled: stays', false, false, 'Completed'],
    ['held by a rollback: stays', true, true, 'Completed'],
    ['settled: the rotation begins', true, false, 'TrustingNewCA'],
  ])('%s', async (_name, settled, held, phase) => {
    const start = await step(0, new Map(), true);
    const next = await step(1, start.secrets, settled, held);
    expect(caRotationStateOf(next.secrets.get('prod-ca') ?? {}).phase).toBe(phase);
    expect(next.report.rotation.advanced).toBe(phase !== 'Completed');
  });

  it('writes the phase it moves to, so the next reconcile starts from there', async () => {
    let secrets = (await step(0, new Map(), true)).secrets;
    const phases: string[] = [];
    for (let i = 0; i < 5; i++) {
      const { report, secrets: next } = await step(1, secrets, true);
      phases.push(report.rotation.target.phase);
      secrets = next;
    }
    expect(phases).toEqual(['TrustingNewCA', 'ReissuingLeaves', 'RemovingOldCA', 'Completed', 'Completed']);
  });
});

describe('withCertificates', () => {
  const report = (
    generation: number,
    phase: CertificateReport['rotation']['target']['phase'],
    waiting?: string,
  ) =>
    ({
      material: {
        secrets: [],
        notAfter: new Date('2031-01-01T00:00:00Z'),
        caNotAfter: new Date('2040-01-01T00:00:00Z'),
        renewalTime: new Date('2030-12-02T00:00:00Z'),
      },
      rotation: { target: { generation, phase }, advanced: false, ...(waiting ? { waiting } : {}) },
    }) satisfies CertificateReport;
  const condition = (status: ClusterStatus) =>
    status.conditions?.find((c) => c.type === 'CertificatesRotating');

  it('reports expiry, the next renewal and no rotation when none was asked for', () => {
    const status = withCertificates({}, undefined, report(0, 'Completed'), 3, now);
    expect(status.certificates).toEqual({
      notAfter: '2031-01-01T00:00:00Z',
      caNotAfter: '2040-01-01T00:00:00Z',
      renewalTime: '2030-12-02T00:00:00Z',
    });
    expect(condition(status)).toMatchObject({ status: 'False', reason: 'AsDesired', observedGeneration: 3 });
  });

  it('reports the phase and keeps its transition time while it lasts', () => {
    const first = withCertificates({}, undefined, report(2, 'ReissuingLeaves'), 4, now);
    expect(first.certificates?.caRotation).toEqual({
      generation: 2,
      phase: 'ReissuingLeaves',
      lastTransitionTime: '2030-01-01T00:00:00Z',
    });
    expect(condition(first)).toMatchObject({ status: 'True', reason: 'ReissuingLeaves' });
    const later = new Date('2030-01-01T00:05:00Z');
    const same = withCertificates(first, first, report(2, 'ReissuingLeaves'), 4, later);
    expect(same.certificates?.caRotation?.lastTransitionTime).toBe('2030-01-01T00:00:00Z');
    const moved = withCertificates(first, first, report(2, 'RemovingOldCA'), 4, later);
    expect(moved.certificates?.caRotation?.lastTransitionTime).toBe('2030-01-01T00:05:00Z');
  });

  it('says what a rotation asked for waits for', () => {
    const status = withCertificates({}, undefined, report(0, 'Completed', 'CA rotation 1 waits'), 5, now);
    expect(condition(status)).toMatchObject({
      status: 'True',
      reason: 'Waiting',
      message: 'CA rotation 1 waits',
    });
  });
});
