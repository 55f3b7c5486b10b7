/**
 * The repository's CRDs, installed into a test's control plane: the files crds/ holds (generated from
 * libs/api and committed), applied server-side so that parallel test files may all install them, and
 * waited for until the apiserver serves each kind. Takes any client with the `apply` and `get` of
 * @kok/reconcile's KubeClient (libs/testing depends on no kok lib but pki).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { eventually } from './eventually.ts';

const crdsDir = fileURLToPath(new URL('../../../crds/', import.meta.url));

/** The address of the CustomResourceDefinition kind, in the shape of @kok/reconcile's ResourceType. */
const crdType = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  plural: 'customresourcedefinitions',
  namespaced: false,
} as const;

interface CustomResourceDefinition {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
}

interface Conditions {
  status?: { conditions?: { type: string; status: string }[] };
}

/** What installing CRDs asks of a client: server-side apply and get, as KubeClient has them. */
export interface CrdClient {
  apply(type: typeof crdType, crd: CustomResourceDefinition): Promise<unknown>;
  get(type: typeof crdType, ref: { name: string }): Promise<unknown>;
}

/** The committed CRDs of an API group (`nodes.kok.dev`, `clusters.kok.dev`), by file name. */
export function committedCrds(group: string): CustomResourceDefinition[] {
  const files = readdirSync(crdsDir).filter((file) => file.startsWith(`${group}_`) && file.endsWith('.yaml'));
  if (files.length === 0) throw new Error(`no CRDs of ${group} in ${crdsDir}`);
  return files.map((file) => parse(readFileSync(join(crdsDir, file), 'utf8')) as CustomResourceDefinition);
}

/** Applies every committed CRD of `group` and waits until each is Established (its kind served). */
export async function installCrds(client: CrdClient, group: string, timeoutMs = 60_000): Promise<void> {
  const crds = committedCrds(group);
  for (const crd of crds) await client.apply(crdType, crd);
  for (const { metadata } of crds) {
    await eventually(
      `CRD ${metadata.name} Established`,
      async () => {
        const { status } = (await client.get(crdType, { name: metadata.name })) as Conditions;
        return status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True');
      },
      timeoutMs,
    );
  }
}
