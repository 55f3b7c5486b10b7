/**
 * Deploying a new operator release must not roll every control plane: an
 * object is rewritten only when its template hash changes, and the hash is a
 * function of the Cluster's spec, the Secrets it mounts and a deliberate
 * TEMPLATE_VERSION. These tests pin the hashes for fixed inputs, so a change
 * that would rewrite objects across the fleet fails here until it is made on
 * purpose.
 */
import type { KubernetesObject, V1Secret, V1StatefulSet } from '@kubernetes/client-node';
import type { ClusterSpec } from '@kok/api';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { resolveCluster } from '../cluster-spec.ts';
import { endpointOf } from '../endpoint.ts';
import { clusterNames } from '../names.ts';
import { TEMPLATE_HASH_ANNOTATION, templateHashOf } from '../template-hash.ts';
import { controlPlaneComponents, nodeTierComponents } from './bring-up-order.ts';
import type { RenderContext } from './component.ts';
import { etcd } from './etcd.ts';
import { OWNER } from './render-fixtures.ts';

/** PKI material with fixed content: real certificates differ on every run. */
function fixedContext(spec: Partial<ClusterSpec> = {}): RenderContext {
  const cluster = resolveCluster({
    metadata: { name: 'prod', namespace: 'fleet' },
    spec: { version: 'v1.36.3', ...spec },
  });
  const names = clusterNames('fleet', 'prod');
  const secrets: V1Secret[] = Object.values(names.secrets).map((name) => ({
    metadata: { name },
    data: { content: Buffer.from(`fixed ${name}`).toString('base64') },
  }));
  return {
    cluster,
    names,
    owner: OWNER,
    endpoint: endpointOf(cluster, names, undefined),
    pki: { secrets, notAfter: new Date('2030-01-01T00:00:00Z') },
  };
}

// The PKI Secrets are remade by pki-material.ts only when a certificate needs it; their hash is not a template's.
const templated = [...controlPlaneComponents, ...nodeTierComponents].filter((c) => c.name !== 'pki');

const hashesOf = (ctx: RenderContext) =>
  Object.fromEntries(templated.map((c) => [c.name, (c.render(ctx) ?? []).map(templateHashOf).join(',')]));

describe('template hashes for fixed inputs', () => {
  it('are pinned: changing one rewrites that object in every Cluster, so bump its TEMPLATE_VERSION on purpose and update this table', () => {
    expect(hashesOf(fixedContext({ nodeOperator: { version: '0.1.0' } }))).toEqual({
      services: '576cfcac8601b51f,576cfcac8601b51f,576cfcac8601b51f',
      // Rewritten once to let the operator's pods reach etcd's client port (its member API).
      networkPolicies: '238fd5c73b88543c,238fd5c73b88543c,238fd5c73b88543c,238fd5c73b88543c,238fd5c73b88543c',
      // The join Secret, then the StatefulSet, rewritten once (TEMPLATE_VERSION 3) for the initial cluster from that Secret.
      etcd: '9c6e8477c51484d9,82aa11cf73472b09',
      // Rewritten once (TEMPLATE_VERSION 4) for --shutdown-delay-duration and a grace period that covers it.
      apiServer: 'b4b6c04fc8fca285',
      controllerManager: '46f3a51f6141571e',
      scheduler: '2ab4cd7672d2784f',
      nodeOperator: 'e2c65b2d5450cc57',
    });
  });
});

describe('the etcd pod template hash', () => {
  it('is pinned, and unchanged by the volume retention policy: the StatefulSet is rewritten, no member rolls', () => {
    const sts = (etcd.render(fixedContext()) ?? []).find((o) => o.kind === 'StatefulSet') as
      V1StatefulSet | undefined;
    expect(sts?.spec?.template.metadata?.annotations?.[TEMPLATE_HASH_ANNOTATION]).toBe('068ef939c3c31d2d');
  });
});

const nodeOperatorSpec = fc.record(
  {
    enabled: fc.boolean(),
    version: fc.stringMatching(/^[0-9]\.[0-9]{1,2}\.[0-9]{1,2}$/),
  },
  { requiredKeys: [] },
);

describe('rendered manifests', () => {
  it('are the same for the same spec, object for object', () => {
    const render = () => templated.map((c) => c.render(fixedContext()));
    expect(render()).toEqual(render());
  });

  it('of the control plane do not depend on the node-operator: a new operator release (another default node-operator) rolls no control plane', () => {
    fc.assert(
      fc.property(nodeOperatorSpec, nodeOperatorSpec, (a, b) => {
        const plane = (nodeOperator: ClusterSpec['nodeOperator']) =>
          controlPlaneComponents.map((c) => c.render(fixedContext({ nodeOperator })) as KubernetesObject[]);
        expect(plane(a)).toEqual(plane(b));
      }),
      { numRuns: 50 },
    );
  });
});
