/**
 * The CustomResourceDefinition of a kind, built from its ResourceDefinition.
 */
import { crdNameOf, KOK_CATEGORY } from './resource.ts';
import type { ResourceDefinition } from './resource.ts';
import { crdSchemaOf, structuralViolations } from './structural-schema.ts';
import type { JsonSchema } from './structural-schema.ts';

export interface CustomResourceDefinition {
  apiVersion: 'apiextensions.k8s.io/v1';
  kind: 'CustomResourceDefinition';
  metadata: { name: string; labels: Record<string, string> };
  spec: {
    group: string;
    names: {
      kind: string;
      listKind: string;
      plural: string;
      singular: string;
      shortNames: string[];
      categories: string[];
    };
    scope: 'Cluster' | 'Namespaced';
    versions: {
      name: string;
      served: boolean;
      storage: boolean;
      subresources: { status: Record<string, never> };
      additionalPrinterColumns: {
        name: string;
        type: string;
        jsonPath: string;
        description: string;
        priority?: number;
      }[];
      schema: { openAPIV3Schema: JsonSchema };
    }[];
  };
}

/** Throws, listing every problem, when the schema is not structural: the apiserver would refuse it. */
export function customResourceDefinition(resource: ResourceDefinition): CustomResourceDefinition {
  const openAPIV3Schema = crdSchemaOf(resource.schema);
  const problems = structuralViolations(openAPIV3Schema);
  if (problems.length > 0) {
    throw new Error(`${resource.kind} schema is not a valid CRD schema:\n  ${problems.join('\n  ')}`);
  }
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: crdNameOf(resource), labels: { 'app.kubernetes.io/part-of': 'kok' } },
    spec: {
      group: resource.group,
      names: {
        kind: resource.kind,
        listKind: `${resource.kind}List`,
        plural: resource.plural,
        singular: resource.singular,
        shortNames: [...resource.shortNames],
        categories: [KOK_CATEGORY],
      },
      scope: resource.scope,
      versions: [
        {
          name: resource.version,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: resource.printerColumns.map((column) => ({ ...column })),
          schema: { openAPIV3Schema },
        },
      ],
    },
  };
}
