/**
 * The generated crds/ directory: one YAML file per kind, named like
 * controller-gen names them (`<group>_<plural>.yaml`).
 */
import { stringify } from 'yaml';
import { customResourceDefinition } from './crd.ts';
import { ALL_RESOURCES } from './resources.ts';

const HEADER = '# Generated from libs/api by `npm run generate -w @kok/api`. Do not edit.\n';

/** File name → content, for every kind. */
export function crdFiles(): Map<string, string> {
  return new Map(
    ALL_RESOURCES.map((resource) => [
      `${resource.group}_${resource.plural}.yaml`,
      HEADER + stringify(customResourceDefinition(resource), { lineWidth: 0 }),
    ]),
  );
}
