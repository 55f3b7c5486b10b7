/**
 * The NodePool spec `nodepool plan` is asked about: a whole NodePool from a
 * file (-f), or the live spec with component versions changed (--set
 * name=version). Validated against the CRD's schema and rules and defaulted as
 * the apiserver would store it, so its template revision is the one the
 * node-operator will compute. Pure.
 */
import { describeInvalid, NodePoolResource, validatorFor, withDefaults } from '@kok/api';
import type { NodePool } from '@kok/api';
import { parseAllDocuments } from 'yaml';
import { CommandError, UsageError } from './cli-errors.ts';

/** `--set kubelet=v1.36.2` as name and version. */
export function parseComponentSetting(text: string): { name: string; version: string } {
  const equals = text.indexOf('=');
  const name = text.slice(0, equals).trim();
  const version = text.slice(equals + 1).trim();
  if (equals < 0 || name === '' || version === '')
    throw new UsageError(`--set ${text}: write component=version, e.g. --set kubelet=v1.36.2`);
  return { name, version };
}

/** The live pool with the versions of named template components changed; a component the template lacks is refused. */
export function poolWithVersions(live: NodePool, settings: readonly string[]): NodePool {
  const components = [...(live.spec.template.components ?? [])];
  for (const setting of settings) {
    const { name, version } = parseComponentSetting(setting);
    const index = components.findIndex((component) => component.name === name);
    if (index < 0) {
      const names = components.map((component) => component.name).join(', ') || 'none';
      throw new CommandError(
        `--set ${setting}: NodePool "${live.metadata?.name ?? ''}" has no component "${name}" in its template ` +
          `(it has: ${names}); to add one, write the whole pool to a file and use -f`,
      );
    }
    components[index] = { ...components[index], name, version };
  }
  return proposedPool(live, {
    ...live,
    spec: { ...live.spec, template: { ...live.spec.template, components } },
  });
}

/** The NodePool of a YAML or JSON file, which must be the pool named on the command line. */
export function poolFromFile(live: NodePool, text: string, source: string): NodePool {
  let documents: unknown[];
  try {
    documents = parseAllDocuments(text).map((document) => {
      if (document.errors.length > 0) throw document.errors[0];
      return document.toJS() as unknown;
    });
  } catch (error) {
    throw new CommandError(`${source} is not YAML: ${(error as Error).message}`);
  }
  const name = live.metadata?.name ?? '';
  const pools = documents.filter(
    (document): document is NodePool =>
      typeof document === 'object' &&
      document !== null &&
      (document as { kind?: unknown }).kind === 'NodePool',
  );
  if (pools.length !== 1)
    throw new CommandError(
      `${source} must hold one NodePool (found ${pools.length}), the new version of "${name}"`,
    );
  const pool = pools[0] as NodePool;
  const fileName = pool.metadata?.name;
  if (fileName !== undefined && fileName !== name)
    throw new CommandError(`${source} holds NodePool "${fileName}", not "${name}"`);
  return proposedPool(live, pool);
}

/** The proposal as the apiserver would store it: the live metadata, the proposed spec, checked and defaulted. */
function proposedPool(live: NodePool, proposal: NodePool): NodePool {
  const pool: NodePool = {
    apiVersion: live.apiVersion,
    kind: live.kind,
    metadata: { name: live.metadata?.name ?? '' },
    spec: proposal.spec,
  } as NodePool;
  const errors = validatorFor(NodePoolResource).validate(pool, live);
  if (errors.length > 0) throw new CommandError(describeInvalid('NodePool', live.metadata?.name, errors));
  return withDefaults(NodePoolResource, pool);
}
