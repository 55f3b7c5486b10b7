/**
 * The committed CRDs against a real kube-apiserver: they install, examples
 * round-trip with defaults applied, and the shared table of invalid objects is
 * refused with the same field and message the TypeScript validator reports.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { eventually, startControlPlane } from '@kok/testing';
import type { ControlPlane } from '@kok/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { CustomResourceDefinition } from './crd.ts';
import { withDefaults } from './defaults.ts';
import { apiVersionOf } from './resource.ts';
import { RESOURCES } from './resources.ts';
import type { KindName } from './resources.ts';
import { apiClient } from './testdata/api-client.ts';
import type { ApiRequest, ApiResponse } from './testdata/api-client.ts';
import { EXAMPLES_DIR, example } from './testdata/examples.ts';
import type { KokObject } from './testdata/examples.ts';
import { ALLOWED_UPDATES, INVALID_OBJECTS } from './testdata/invalid-objects.ts';
import { validatorFor } from './validation.ts';

const CRDS_DIR = join(EXAMPLES_DIR, '..');
const KINDS = Object.keys(RESOURCES) as KindName[];
const NAMESPACE = 'fleet-prod';

let controlPlane: ControlPlane;
let api: ApiRequest;

function collectionPath(kind: KindName): string {
  const resource = RESOURCES[kind];
  const namespace = resource.scope === 'Namespaced' ? `/namespaces/${NAMESPACE}` : '';
  return `/apis/${apiVersionOf(resource)}${namespace}/${resource.plural}`;
}

function objectPath(kind: KindName, name: string): string {
  return `${collectionPath(kind)}/${name}`;
}

/** A DNS-label name for a test object, unique per case. */
function slug(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 63);
}

function named(object: KokObject, name: string): KokObject {
  return { ...object, metadata: { ...object.metadata, name } };
}

/** Creates an object, retrying while the freshly established resource is not served yet. */
async function create(kind: KindName, object: KokObject): Promise<ApiResponse> {
  return eventually(`${kind} to be served`, async () => {
    const response = await api('POST', collectionPath(kind), object);
    return response.status === 404 || response.status === 503 ? undefined : response;
  });
}

interface Cause {
  field?: string;
  message?: string;
}

function causesOf(response: ApiResponse): Cause[] {
  return ((response.body.details as { causes?: Cause[] } | undefined)?.causes ?? []).map((cause) => ({
    field: cause.field,
    message: cause.message,
  }));
}

function specOf(object: unknown): unknown {
  return (object as { spec: unknown }).spec;
}

beforeAll(async () => {
  controlPlane = await startControlPlane();
  const cluster = controlPlane.kubeConfig.getCurrentCluster();
  const user = controlPlane.kubeConfig.getCurrentUser();
  if (!cluster?.caData || !user?.certData || !user.keyData) {
    throw new Error('the test control plane kubeconfig has no inline certificates');
  }
  api = apiClient({
    server: controlPlane.server,
    caData: cluster.caData,
    certData: user.certData,
    keyData: user.keyData,
  });
  const namespace = await api('POST', '/api/v1/namespaces', {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: NAMESPACE },
  });
  expect(namespace.status).toBe(201);
});

afterAll(async () => {
  await controlPlane?.stop();
});

describe('CRDs on a real apiserver', () => {
  it('every committed CRD installs and becomes Established', async () => {
    const files = readdirSync(CRDS_DIR).filter((name) => name.endsWith('.yaml'));
    expect(files).toHaveLength(KINDS.length);
    for (const file of files) {
      const crd = parse(readFileSync(join(CRDS_DIR, file), 'utf8')) as CustomResourceDefinition;
      const created = await api('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd);
      expect(created.status, `${file}: ${JSON.stringify(created.body.message)}`).toBe(201);
    }
    for (const file of files) {
      const name = (parse(readFileSync(join(CRDS_DIR, file), 'utf8')) as CustomResourceDefinition).metadata
        .name;
      const conditions = await eventually(`${name} Established`, async () => {
        const response = await api('GET', `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}`);
        const status = response.body.status as
          { conditions?: { type: string; status: string }[] } | undefined;
        const established = status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True');
        return established ? status?.conditions : undefined;
      });
      expect(conditions).toContainEqual(expect.objectContaining({ type: 'NamesAccepted', status: 'True' }));
      expect(conditions).not.toContainEqual(expect.objectContaining({ type: 'NonStructuralSchema' }));
    }
  });

  it('puts every kind in the kok category, with its short names', async () => {
    for (const kind of KINDS) {
      const resource = RESOURCES[kind];
      const discovery = await eventually(`discovery of ${apiVersionOf(resource)}`, async () => {
        const response = await api('GET', `/apis/${apiVersionOf(resource)}`);
        return response.status === 200 ? response.body : undefined;
      });
      const entry = (
        discovery.resources as { name: string; categories?: string[]; shortNames?: string[] }[]
      ).find((r) => r.name === resource.plural);
      expect(entry?.categories).toEqual(['kok']);
      expect(entry?.shortNames).toEqual([...resource.shortNames]);
    }
  });

  it('reads well in kubectl explain and lists every kind under kubectl get kok', async () => {
    const kubectl = (...args: string[]) =>
      execFileSync(
        join(controlPlane.binDir, 'kubectl'),
        ['--kubeconfig', controlPlane.kubeconfigPath, ...args],
        {
          encoding: 'utf8',
        },
      );
    const explained = await eventually('kubectl explain', async () => {
      try {
        return kubectl('explain', 'nodepool.spec.rollout.strategy.rollingUpdate');
      } catch {
        return undefined; // discovery not refreshed yet
      }
    });
    expect(explained).toContain('Rolling update parameters.');
    expect(explained).toMatch(/maxUnavailable\s+<Object>|maxUnavailable\s+<IntOrString>/);
    expect(explained).toContain('Most machines of the pool unavailable at once');
    const resources = kubectl('api-resources', '--categories=kok', '-o', 'name').trim().split('\n').sort();
    expect(resources).toEqual(
      KINDS.map((kind) => `${RESOURCES[kind].plural}.${RESOURCES[kind].group}`).sort(),
    );
  });

  it.each(KINDS)('the %s example round-trips with the schema defaults applied', async (kind) => {
    const object = example(kind);
    const created = await create(kind, object);
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const expected = withDefaults(RESOURCES[kind], object as never);
    expect(specOf(created.body)).toEqual(specOf(expected));
    const read = await api('GET', objectPath(kind, object.metadata.name));
    expect(specOf(read.body)).toEqual(specOf(expected));
  });

  it.each(INVALID_OBJECTS.map((c) => [c.name, c] as const))('refuses: %s', async (_, invalidCase) => {
    const { kind, object, update, expect: expected } = invalidCase;
    const name = slug(invalidCase.name);
    let response: ApiResponse;
    if (update) {
      const original = await create(kind, named(example(kind), name));
      expect(original.status, JSON.stringify(original.body)).toBe(201);
      const resourceVersion = (original.body.metadata as { resourceVersion: string }).resourceVersion;
      const replacement = named(object, name);
      replacement.metadata.resourceVersion = resourceVersion;
      response = await api('PUT', objectPath(kind, name), replacement);
    } else {
      response = await create(kind, named(object, name));
    }
    expect(response.status, JSON.stringify(response.body)).toBe(422);
    const causes = causesOf(response);
    expect(causes).toContainEqual({
      field: expected.field,
      message: expect.stringContaining(expected.message),
    });

    // The TypeScript validator reports the very same error, word for word.
    const serverError = causes.find(
      (c) => c.field === expected.field && c.message?.includes(expected.message),
    );
    const oldObject = update ? withDefaults(RESOURCES[kind], example(kind) as never) : undefined;
    const ours = validatorFor(RESOURCES[kind]).validate(
      withDefaults(RESOURCES[kind], object as never),
      oldObject,
    );
    expect(ours).toContainEqual(serverError);
  });

  it.each(ALLOWED_UPDATES.map((c) => [c.name, c] as const))(
    'allows the update: %s',
    async (_, allowedUpdate) => {
      const { kind, object } = allowedUpdate;
      const name = slug(`allowed ${allowedUpdate.name}`);
      const original = await create(kind, named(example(kind), name));
      expect(original.status, JSON.stringify(original.body)).toBe(201);
      const replacement = named(object, name);
      replacement.metadata.resourceVersion = (
        original.body.metadata as { resourceVersion: string }
      ).resourceVersion;
      const response = await api('PUT', objectPath(kind, name), replacement);
      expect(response.status, JSON.stringify(response.body)).toBe(200);
    },
  );
});
