/** The environment variables of a container, resolved the way the kubelet resolves them. */
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { expandEnv } from './command-line.ts';

export interface PodFacts {
  readonly podIP: string;
  readonly nodeName: string;
}

/** The value of a downward-API field path, or undefined when it is not one this runtime knows. */
export function fieldValue(pod: V1Pod, fieldPath: string, facts: PodFacts): string | undefined {
  switch (fieldPath) {
    case 'metadata.name':
      return pod.metadata?.name;
    case 'metadata.namespace':
      return pod.metadata?.namespace;
    case 'metadata.uid':
      return pod.metadata?.uid;
    case 'spec.nodeName':
      return facts.nodeName;
    case 'spec.serviceAccountName':
      return pod.spec?.serviceAccountName;
    case 'status.podIP':
    case 'status.hostIP':
      return facts.podIP;
    case 'status.podIPs':
    case 'status.hostIPs':
      return facts.podIP;
  }
  const label = /^metadata\.labels\['(.+)'\]$/.exec(fieldPath)?.[1];
  if (label) return pod.metadata?.labels?.[label];
  const annotation = /^metadata\.annotations\['(.+)'\]$/.exec(fieldPath)?.[1];
  if (annotation) return pod.metadata?.annotations?.[annotation];
  return undefined;
}

/**
 * `container.env` in order: literal values (which may reference earlier
 * variables) and downward-API fields. Secret and ConfigMap references need
 * the API and are resolved by the caller through `lookup`.
 */
export function containerEnv(
  pod: V1Pod,
  container: V1Container,
  facts: PodFacts,
  lookup: (kind: 'secret' | 'configMap', name: string, key: string) => string | undefined = () => undefined,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const variable of container.env ?? []) {
    const from = variable.valueFrom;
    let value: string | undefined;
    if (variable.value !== undefined) value = expandEnv(variable.value, env);
    else if (from?.fieldRef) value = fieldValue(pod, from.fieldRef.fieldPath, facts);
    else if (from?.secretKeyRef?.name)
      value = lookup('secret', from.secretKeyRef.name, from.secretKeyRef.key);
    else if (from?.configMapKeyRef?.name)
      value = lookup('configMap', from.configMapKeyRef.name, from.configMapKeyRef.key);
    else value = '';
    if (value !== undefined) env[variable.name] = value;
  }
  return env;
}

/**
 * The first Secret or ConfigMap key an env var of `container` needs and `lookup` lacks, said as
 * the kubelet says it; undefined when every one is there or optional. The kubelet does not start
 * such a container.
 */
export function missingEnvReference(
  container: V1Container,
  lookup: (kind: 'secret' | 'configMap', name: string, key: string) => string | undefined,
): string | undefined {
  for (const variable of container.env ?? []) {
    const from = variable.valueFrom;
    const ref = from?.secretKeyRef
      ? { kind: 'secret' as const, ...from.secretKeyRef }
      : from?.configMapKeyRef
        ? { kind: 'configMap' as const, ...from.configMapKeyRef }
        : undefined;
    if (!ref?.name || ref.optional || lookup(ref.kind, ref.name, ref.key) !== undefined) continue;
    return `couldn't find key ${ref.key} in ${ref.kind === 'secret' ? 'Secret' : 'ConfigMap'} ${ref.name} (env ${variable.name} of container ${container.name})`;
  }
  return undefined;
}
