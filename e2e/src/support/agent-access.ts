/**
 * What a node agent may do (apps/node-agent/deploy: its RBAC and the admission
 * policy that confines it to its own Machine), installed as the node-operator
 * chart installs it, so that agents run with their own identity in the tests.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { KubernetesObjectApi } from '@kubernetes/client-node';
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';

const AGENT_DEPLOY = new URL('../../../apps/node-agent/deploy/', import.meta.url);

export function agentAccessObjects(): KubernetesObject[] {
  return ['rbac.yaml', 'admission-policy.yaml'].flatMap((file) =>
    parseAllDocuments(readFileSync(fileURLToPath(new URL(file, AGENT_DEPLOY)), 'utf8')).map(
      (d) => d.toJS() as KubernetesObject,
    ),
  );
}

/** Creates or updates every object (server-side apply), so a shared control plane may already hold them. */
export async function installAgentAccess(kubeConfig: KubeConfig): Promise<void> {
  const objects = KubernetesObjectApi.makeApiClient(kubeConfig);
  for (const object of agentAccessObjects())
    await objects.patch(object, undefined, undefined, 'kok-e2e', true, 'application/apply-patch+yaml');
}
