/**
 * The envelope every kind shares: apiVersion, kind, metadata, spec, status.
 */
import type { TObject } from 'typebox';
import type { CelRule } from './cel-rule.ts';
import { ObjectMeta } from './common-schemas.ts';
import * as s from './schema-builders.ts';

/** Properties of the envelope that the apiserver owns; the CRD schema leaves them out of `required`. */
export const ENVELOPE_PROPERTIES = ['apiVersion', 'kind', 'metadata'] as const;

export function resourceSchema<Spec extends TObject, Status extends TObject>(
  description: string,
  spec: Spec,
  status: Status,
  /** CEL rules on the whole object; of metadata they see name and generateName only. */
  rules: readonly CelRule[] = [],
) {
  return s.object(
    description,
    {
      apiVersion: s.string('APIVersion defines the versioned schema of this representation of an object.', {
        maxLength: 64,
      }),
      kind: s.string('Kind is a string value representing the REST resource this object represents.', {
        maxLength: 64,
      }),
      metadata: ObjectMeta,
      spec,
      status: s.optional(status),
    },
    { rules },
  );
}
