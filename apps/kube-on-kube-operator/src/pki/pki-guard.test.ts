import { createHash, X509Certificate } from 'node:crypto';
import type { V1Secret } from '@kubernetes/client-node';
import type { ClusterSpec } from '@kok/api';
import { describe, expect, it } from 'vitest';
import { pkiSpecs } from './certificates.ts';
import { resolveCluster } from '../cluster-spec.ts';
import { endpointOf } from '../endpoint.ts';
import { clusterNames } from '../names.ts';
import { ensurePki } from './pki-material.ts';
import type { PkiGuardInputs } from './pki-guard.ts';
import {
  guardPki,
  nextPkiFingerprints,
  PKI_MISMATCH,
  PKI_MISSING,
  regeneratePkiRequested,
  SECRET_NOT_OWNED,
} from './pki-guard.ts';

const UID = 'uid-of-prod';
const names = clusterNames('fleet', 'prod');
const cluster = resolveCluster({
  metadata: { name: 'prod', namespace: 'fleet' },
  spec: { version: 'v1.36.3' } satisfies Partial<ClusterSpec>,
});
const specs = pkiSpecs({
  cluster,
  names,
  endpoint: endpointOf(cluster, names, undefined),
  apiServerClusterIP: '10.0.0.42',
});

const secret = (name: string, controllerUid: string | null = UID): V1Secret => ({
  metadata: {
    name,
    ...(controllerUid
      ? {
          ownerReferences: [
            {
              apiVersion: 'clusters.kok.dev/v1alpha1',
              kind: 'Cluster',
              name: 'prod',
              uid: controllerUid,
              controller: true,
            },
          ],
        }
      : {}),
  },
});
const all = new Map(specs.map((s) => [s.secretName, secret(s.secretName)]));
const without = (...gone: string[]) => new Map([...all].filter(([name]) => !gone.includes(name)));
const RECORDED = { caSHA256: 'a'.repeat(64), serviceAccountKeySHA256: 'b'.repeat(64) };

const guard = (overrides: Partial<PkiGuardInputs>) =>
  guardPki({
    specs,
    found: all,
    clusterUid: UID,
    clusterName: 'prod',
    recorded: RECORDED,
    regenerateRequested: false,
    ...overrides,
  });

describe('guardPki', () => {
  it.each<[string, Partial<PkiGuardInputs>, string]>([
    ['a new Cluster: everything is made', { found: new Map(), recorded: undefined }, 'proceed'],
    ['every Secret there and ours', {}, 'proceed'],
    ['a leaf missing: reissued from the CA', { found: without(names.secrets.apiServerServing) }, 'proceed'],
    ['the CA missing after PKI was recorded', { found: without(names.secrets.ca) }, PKI_MISSING],
    [
      'the SA key missing after PKI was recorded',
      { found: without(names.secrets.serviceAccount) },
      PKI_MISSING,
    ],
    ['the etcd CA missing after PKI was recorded', { found: without(names.secrets.etcdCA) }, PKI_MISSING],
    ['everything missing after PKI was recorded', { found: new Map() }, PKI_MISSING],
    [
      'the CA missing, regeneration asked for',
      { found: without(names.secrets.ca), regenerateRequested: true },
      'proceed',
    ],
    [
      'the CA missing, nothing recorded (an older status)',
      { found: without(names.secrets.ca), recorded: {} },
      'proceed',
    ],
    [
      'the CA controlled by another Cluster',
      { found: new Map([...all, [names.secrets.ca, secret(names.secrets.ca, 'uid-of-another')]]) },
      SECRET_NOT_OWNED,
    ],
    [
      'a leaf with no controller and no labels',
      { found: new Map([...all, [names.secrets.etcdPeer, secret(names.secrets.etcdPeer, null)]]) },
      SECRET_NOT_OWNED,
    ],
    [
      'a foreign Secret on a new Cluster, regeneration asked for',
      {
        found: new Map([[names.secrets.ca, secret(names.secrets.ca, 'uid-of-another')]]),
        recorded: undefined,
        regenerateRequested: true,
      },
      SECRET_NOT_OWNED,
    ],
  ])('%s: %s', (_, overrides, expected) => {
    const decision = guard(overrides);
    expect(decision.kind === 'blocked' ? decision.reason : decision.kind).toBe(expected);
  });

  describe('a Secret no object controls, as a restore from a backup leaves it', () => {
    const OUR_LABELS = {
      'clusters.kok.dev/cluster': 'prod',
      'clusters.kok.dev/component': 'pki',
      'app.kubernetes.io/managed-by': 'kube-on-kube-operator',
    };
    const unowned = (source: V1Secret, labels: Record<string, string> = OUR_LABELS): V1Secret => ({
      ...source,
      metadata: { name: source.metadata?.name ?? '', labels },
    });
    // Real material, so that fingerprints can be compared with what status.pki records.
    const restored = async () => {
      const material = await ensurePki(specs, new Map());
      const secrets = new Map(material.secrets.map((s) => [s.metadata?.name ?? '', s]));
      return { secrets, recorded: nextPkiFingerprints(undefined, specs, secrets) };
    };
    const decide = (found: Map<string, V1Secret>, overrides: Partial<PkiGuardInputs> = {}) => {
      const decision = guard({ found, ...overrides });
      return decision.kind === 'blocked'
        ? decision.reason
        : `proceed, adopt ${decision.adopt.toSorted().join(' ') || 'none'}`;
    };

    it('adopts every restored Secret of a new Cluster object (status.pki gone with the old one)', async () => {
      const { secrets } = await restored();
      const found = new Map([...secrets].map(([name, s]) => [name, unowned(s)]));
      expect(decide(found, { recorded: undefined })).toBe(
        `proceed, adopt ${[...found.keys()].toSorted().join(' ')}`,
      );
    });

    it('adopts a restored CA that status.pki records, next to Secrets the Cluster already controls', async () => {
      const { secrets, recorded } = await restored();
      const found = new Map<string, V1Secret>(
        [...secrets].map(([name, s]) => [name, { ...s, metadata: secret(name).metadata }]),
      );
      found.set(names.secrets.ca, unowned(secrets.get(names.secrets.ca) as V1Secret));
      expect(decide(found, { recorded })).toBe(`proceed, adopt ${names.secrets.ca}`);
    });

    it('refuses a restored CA whose fingerprint is not the recorded one, naming both', async () => {
      const { secrets, recorded } = await restored();
      const other = (await restored()).secrets.get(names.secrets.ca) as V1Secret;
      const found = new Map([...secrets].map(([name, s]) => [name, unowned(s)]));
      found.set(names.secrets.ca, unowned(other));
      const decision = guard({ found, recorded });
      expect(decision.kind === 'blocked' && decision.reason).toBe(PKI_MISMATCH);
      expect(decision.kind === 'blocked' && decision.message).toMatch(
        new RegExp(
          `^Secret prod-ca has no controller and would be adopted, but prod-ca holds SHA-256 [0-9a-f]{64} where status.pki.caSHA256 records ${recorded?.caSHA256}`,
        ),
      );
    });

    it.each<[string, Record<string, string>, string | null, string]>([
      ['our labels', OUR_LABELS, null, `proceed, adopt ${names.secrets.etcdPeer}`],
      ['no labels', {}, null, SECRET_NOT_OWNED],
      [
        "another Cluster's name",
        { ...OUR_LABELS, 'clusters.kok.dev/cluster': 'staging' },
        null,
        SECRET_NOT_OWNED,
      ],
      [
        'managed by something else',
        { ...OUR_LABELS, 'app.kubernetes.io/managed-by': 'helm' },
        null,
        SECRET_NOT_OWNED,
      ],
      ['our labels, but controlled by another Cluster', OUR_LABELS, 'uid-of-another', SECRET_NOT_OWNED],
    ])('a leaf with %s', (_, labels, controllerUid, expected) => {
      const leaf = secret(names.secrets.etcdPeer, controllerUid);
      const found = new Map([
        ...all,
        [names.secrets.etcdPeer, { ...leaf, metadata: { ...leaf.metadata, labels } }],
      ]);
      expect(decide(found)).toBe(expected);
    });

    it('adopts nothing while a foreign Secret holds the Cluster', () => {
      const found = new Map([
        ...all,
        [names.secrets.etcdPeer, unowned(secret(names.secrets.etcdPeer, null))],
        [names.secrets.ca, secret(names.secrets.ca, 'uid-of-another')],
      ]);
      expect(decide(found)).toBe(SECRET_NOT_OWNED);
    });
  });

  it('names the missing Secrets and the annotation that allows new ones', () => {
    const decision = guard({ found: without(names.secrets.ca, names.secrets.serviceAccount) });
    expect(decision.kind === 'blocked' && decision.message).toMatch(
      /^Secrets prod-ca, prod-sa are missing, .*clusters\.kok\.dev\/regenerate-pki/,
    );
  });

  it('names the Secret it will not adopt', () => {
    const decision = guard({ found: new Map([...all, [names.secrets.ca, secret(names.secrets.ca, 'x')]]) });
    expect(decision.kind === 'blocked' && decision.message).toMatch(
      /^Secret prod-ca exists but is not controlled by this Cluster \(uid uid-of-prod\)/,
    );
  });

  it.each([
    [true, all, true],
    [true, without(names.secrets.ca), false],
    [false, all, false],
  ])(
    'regeneration asked %s: the annotation is removed once every CA and key exists (%#)',
    (asked, found, removed) => {
      const decision = guard({ found, regenerateRequested: asked });
      expect(decision.kind === 'proceed' && decision.removeRegenerateAnnotation).toBe(removed);
    },
  );

  it.each([
    [undefined, false],
    [{}, false],
    [{ 'clusters.kok.dev/regenerate-pki': '' }, true],
    [{ 'clusters.kok.dev/regenerate-pki': 'yes' }, true],
  ])('regeneratePkiRequested(%j) is %s', (annotations, expected) => {
    expect(regeneratePkiRequested(annotations)).toBe(expected);
  });
});

describe('nextPkiFingerprints', () => {
  const sha256 = (der: Buffer) => createHash('sha256').update(der).digest('hex');
  const text = (s: V1Secret | undefined, key: string) =>
    Buffer.from(s?.data?.[key] ?? '', 'base64').toString();

  it('records the SHA-256 of each CA certificate and of the service-account public key, as DER', async () => {
    const material = await ensurePki(specs, new Map());
    const made = new Map(material.secrets.map((s) => [s.metadata?.name ?? '', s]));
    const fingerprints = nextPkiFingerprints(undefined, specs, made);
    const ca = made.get(names.secrets.ca);
    expect(fingerprints?.caSHA256).toBe(sha256(new X509Certificate(text(ca, 'tls.crt')).raw));
    expect(fingerprints?.caSHA256).toBe(
      new X509Certificate(text(ca, 'tls.crt')).fingerprint256.replaceAll(':', '').toLowerCase(),
    );
    expect(fingerprints).toEqual({
      caSHA256: expect.stringMatching(/^[0-9a-f]{64}$/),
      frontProxyCASHA256: expect.stringMatching(/^[0-9a-f]{64}$/),
      etcdCASHA256: expect.stringMatching(/^[0-9a-f]{64}$/),
      serviceAccountKeySHA256: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(new Set(Object.values(fingerprints ?? {})).size).toBe(4);
  });

  it('keeps what was recorded for a Secret that is not there, and records nothing when nothing is', () => {
    expect(nextPkiFingerprints(RECORDED, specs, new Map())).toEqual(RECORDED);
    expect(nextPkiFingerprints(undefined, specs, new Map())).toBeUndefined();
  });
});
