import type { V1Deployment } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { OPERATOR_VERSION } from '../operator-version.ts';
import { templateHashOf } from '../template-hash.ts';
import { nodeOperator } from './node-operator.ts';
import { OWNER, renderContext } from './render-fixtures.ts';

const render = async (spec: Parameters<typeof renderContext>[0] = {}) =>
  (nodeOperator.render(await renderContext(spec)) as V1Deployment[] | undefined)?.[0];

describe('node-operator Deployment', () => {
  it('runs the operator release by default, or the version the Cluster asks for', async () => {
    const image = async (spec: Parameters<typeof renderContext>[0]) =>
      (await render(spec))?.spec?.template.spec?.containers[0]?.image;
    expect(await image({})).toBe(`ghcr.io/kok-dev/node-operator:${OPERATOR_VERSION}`);
    expect(await image({ nodeOperator: { version: '0.2.0' } })).toBe('ghcr.io/kok-dev/node-operator:0.2.0');
  });

  it('points the node-operator at the mounted biz kubeconfig, with leader election, as its flags are spelled', async () => {
    const deployment = await render();
    const pod = deployment?.spec?.template.spec;
    const container = pod?.containers[0];
    // apps/node-operator/src/command-line.ts: --leader-elect is a bare switch there.
    expect(container?.args).toEqual([
      '--kubeconfig=/etc/kubernetes/kubeconfig/kubeconfig',
      '--leader-elect',
      '--namespace=kok-system',
      '--metrics-bind-address=0.0.0.0:8080',
    ]);
    expect(container?.command).toBeUndefined();
    expect(container?.volumeMounts).toEqual([
      { name: 'kubeconfig', mountPath: '/etc/kubernetes/kubeconfig', readOnly: true },
    ]);
    expect(pod?.volumes).toEqual([
      {
        name: 'kubeconfig',
        projected: {
          sources: [
            {
              secret: {
                name: 'prod-node-operator-kubeconfig',
                items: [{ key: 'kubeconfig', path: 'kubeconfig' }],
              },
            },
          ],
          defaultMode: 0o440,
        },
      },
    ]);
    // Nothing of the meta-cluster: the biz kubeconfig is its only credential.
    expect(pod?.automountServiceAccountToken).toBe(false);
  });

  it('is locked down like the chart: non-root, read-only, no capabilities, probes on the metrics port', async () => {
    const pod = (await render())?.spec?.template.spec;
    const container = pod?.containers[0];
    expect(pod?.securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: 65532,
      fsGroup: 65532,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(container?.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(container?.resources).toEqual({
      requests: { cpu: '200m', memory: '256Mi' },
      limits: { memory: '1Gi' },
    });
    expect(container?.readinessProbe?.httpGet).toMatchObject({ path: '/readyz', port: 'metrics' });
    expect(container?.livenessProbe?.httpGet).toMatchObject({ path: '/healthz', port: 'metrics' });
  });

  it('is controlled by the Cluster, one replica that surges during a rollout', async () => {
    const deployment = await render();
    expect(deployment?.metadata).toMatchObject({
      name: 'prod-node-operator',
      namespace: 'fleet',
      ownerReferences: [OWNER],
      labels: { 'clusters.kok.dev/component': 'node-operator' },
    });
    expect(deployment?.spec?.replicas).toBe(1);
    expect(deployment?.spec?.strategy?.rollingUpdate).toEqual({ maxSurge: 1, maxUnavailable: 0 });
    expect(deployment?.spec?.selector.matchLabels).toEqual({
      'clusters.kok.dev/cluster': 'prod',
      'clusters.kok.dev/component': 'node-operator',
    });
  });

  it('renders nothing while disabled, and waits for the PKI while enabled', async () => {
    expect(nodeOperator.render(await renderContext({ nodeOperator: { enabled: false } }))).toEqual([]);
    expect(nodeOperator.render({ ...(await renderContext()), pki: undefined })).toBeUndefined();
  });

  it.each<[string, Parameters<typeof renderContext>[0], boolean]>([
    ['the same spec', {}, false],
    ['another control-plane version', { version: 'v1.36.4' }, false],
    ['apiserver replicas', { controlPlane: { apiServer: { replicas: 5 } } }, false],
    ['another node-operator version', { nodeOperator: { version: '0.2.0' } }, true],
  ])('its template hash moves with its own inputs only: %s', async (_, spec, changes) => {
    const before = templateHashOf(await render());
    const after = templateHashOf(await render(spec));
    expect(after !== before).toBe(changes);
  });

  it('is Available once its one pod is, at the node-operator version', async () => {
    const ctx = await renderContext({ nodeOperator: { version: '0.2.0' } });
    const desired = nodeOperator.render(ctx) as V1Deployment[];
    const observed: V1Deployment = {
      ...desired[0],
      metadata: { ...desired[0]?.metadata, generation: 1 },
      status: { observedGeneration: 1, replicas: 1, updatedReplicas: 1, availableReplicas: 1 },
    };
    expect(nodeOperator.status([observed], desired, ctx)).toMatchObject({
      availableAtDesired: true,
      version: '0.2.0',
      ready: 1,
    });
    expect(nodeOperator.status([undefined], desired, ctx)).toMatchObject({
      availableAtDesired: false,
      reason: 'Missing',
    });
  });
});
