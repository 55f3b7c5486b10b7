/**
 * Validates kok objects without an apiserver, reporting errors in the
 * apiserver's own words (`spec.pool: Required value`), so an operator condition
 * or a CLI message reads the same as a rejected `kubectl apply`.
 *
 * Three layers, in the order the apiserver runs them:
 *  1. ajv on the kind's JSON schema (types, bounds, enums, patterns, formats);
 *     the x-kubernetes-* keywords are known to ajv as annotations only.
 *  2. x-kubernetes-list-type: map key uniqueness.
 *  3. every CEL rule's TypeScript twin (cel-rule.ts), at the same node and with
 *     the old object correlated the way the apiserver does for transition rules.
 * The shared table in invalid-objects.ts runs through this and a real
 * apiserver, so the two cannot drift apart unnoticed.
 */
import { Ajv } from 'ajv';
import type { ErrorObject, ValidateFunction } from 'ajv';
import addFormatsPlugin from 'ajv-formats';
import { isTransitionRule, runCheck } from './cel-rule.ts';
import type { CelRule } from './cel-rule.ts';
import type { ResourceDefinition } from './resource.ts';
import type { Static } from './schema-builders.ts';
import { toJson } from './structural-schema.ts';
import type { JsonSchema } from './structural-schema.ts';

/** One problem with an object, as the apiserver reports it in Status details.causes. */
export interface FieldError {
  /** Dotted path from the object root, e.g. `spec.rollout.waves[0].count`. */
  readonly field: string;
  /** `Required value`, `Invalid value: …`, `Unsupported value: …` or a CEL rule's message, as the apiserver words it. */
  readonly message: string;
}

export interface ObjectValidator<T> {
  /** Every problem with `object`; pass `oldObject` on update so transition rules run. Empty means valid. */
  validate(object: unknown, oldObject?: unknown): FieldError[];
  /** Type guard: true when `validate` finds nothing. */
  isValid(object: unknown, oldObject?: unknown): object is T;
}

const KUBERNETES_KEYWORDS = [
  'x-kubernetes-validations',
  'x-kubernetes-list-type',
  'x-kubernetes-list-map-keys',
  'x-kubernetes-map-type',
  'x-kubernetes-int-or-string',
  'x-kubernetes-preserve-unknown-fields',
  'x-kubernetes-embedded-resource',
];

// ajv-formats ships its own copy of ajv's types; the instance is the same shape.
const addFormats = addFormatsPlugin as unknown as (ajv: Ajv, formats: string[]) => Ajv;

function newAjv(): Ajv {
  const ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false, strictRequired: false });
  ajv.addVocabulary(KUBERNETES_KEYWORDS);
  addFormats(ajv, ['date-time']);
  // Kubernetes integer widths: documentation for clients, not a check the apiserver makes.
  ajv.addFormat('int32', { type: 'number', validate: () => true });
  ajv.addFormat('int64', { type: 'number', validate: () => true });
  return ajv;
}

let sharedAjv: Ajv | undefined;
const compiled = new WeakMap<ResourceDefinition, ValidateFunction>();

/** The validator of a kind. Compiling is the slow part and happens once per kind. */
export function validatorFor<Resource extends ResourceDefinition>(
  resource: Resource,
): ObjectValidator<Static<Resource['schema']>> {
  const schema = resource.schema as unknown as JsonSchema;
  let validateSchema = compiled.get(resource);
  if (!validateSchema) {
    sharedAjv ??= newAjv();
    validateSchema = sharedAjv.compile(toJson(schema));
    compiled.set(resource, validateSchema);
  }
  const ajvValidate = validateSchema;
  const validate = (object: unknown, oldObject?: unknown): FieldError[] => [
    ...schemaErrors(ajvValidate, object),
    ...kubernetesErrors(schema, object, oldObject, ''),
  ];
  return {
    validate,
    isValid: (object, oldObject): object is Static<Resource['schema']> =>
      validate(object, oldObject).length === 0,
  };
}

/** `Machine "worker-1" is invalid: spec.pool: Required value; …`, the shape of the apiserver's 422 message. */
export function describeInvalid(
  kind: string,
  name: string | undefined,
  errors: readonly FieldError[],
): string {
  return `${kind} "${name ?? ''}" is invalid: ${errors.map((error) => `${error.field}: ${error.message}`).join('; ')}`;
}

function schemaErrors(validate: ValidateFunction, object: unknown): FieldError[] {
  if (validate(object)) return [];
  const errors = (validate.errors ?? []).flatMap((error) => toFieldError(error, object));
  return uniqueErrors(errors);
}

function uniqueErrors(errors: FieldError[]): FieldError[] {
  const seen = new Set<string>();
  return errors.filter((error) => {
    const key = `${error.field}\0${error.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function fieldPath(object: unknown, instancePath: string): string {
  let path = '';
  let node: unknown = object;
  for (const raw of instancePath.split('/').slice(1)) {
    const segment = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    path += Array.isArray(node) ? `[${segment}]` : path === '' ? segment : `.${segment}`;
    node = (node as Record<string, unknown> | undefined)?.[segment];
  }
  return path;
}

function valueAt(object: unknown, instancePath: string): unknown {
  let node = object;
  for (const raw of instancePath.split('/').slice(1)) {
    node = (node as Record<string, unknown> | undefined)?.[raw.replaceAll('~1', '/').replaceAll('~0', '~')];
  }
  return node;
}

function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

const GO_ESCAPES: Record<string, string> = {
  '\x07': '\\a',
  '\b': '\\b',
  '\f': '\\f',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\v': '\\v',
};

/** A string as Go's %q writes it (the apiserver's words): control characters as \n, \t or \x00. */
function quoted(value: unknown): string {
  if (typeof value !== 'string') return String(value);
  let out = '"';
  for (const char of value) {
    const code = char.codePointAt(0) ?? 0;
    if (char === '"' || char === '\\') out += `\\${char}`;
    else if (GO_ESCAPES[char] !== undefined) out += GO_ESCAPES[char];
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += char;
  }
  return `${out}"`;
}

function toFieldError(error: ErrorObject, object: unknown): FieldError[] {
  const field = fieldPath(object, error.instancePath);
  const value = valueAt(object, error.instancePath);
  const params = error.params as Record<string, unknown>;
  const invalid = (detail: string): FieldError[] => [
    { field, message: `Invalid value: ${quoted(value)}: ${field} in body ${detail}` },
  ];
  switch (error.keyword) {
    case 'required':
      return [
        {
          field: field ? `${field}.${String(params.missingProperty)}` : String(params.missingProperty),
          message: 'Required value',
        },
      ];
    case 'enum': {
      const allowed = (params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ');
      return [
        { field, message: `Unsupported value: ${JSON.stringify(value)}: supported values: ${allowed}` },
      ];
    }
    case 'type':
      // Inside an int-or-string's anyOf the branch errors are reported once, by the anyOf below.
      if (/\/anyOf\/\d+\/type$/.test(error.schemaPath)) return [];
      return [
        {
          field,
          message: `Invalid value: "${jsonType(value)}": ${field} in body must be of type ${String(params.type)}: "${jsonType(value)}"`,
        },
      ];
    case 'anyOf':
      return [
        {
          field,
          message: `Invalid value: "${jsonType(value)}": ${field} in body must be of type integer,string: "${jsonType(value)}"`,
        },
      ];
    case 'minimum':
      return invalid(`should be greater than or equal to ${String(params.limit)}`);
    case 'maximum':
      return invalid(`should be less than or equal to ${String(params.limit)}`);
    case 'minLength':
      return invalid(`should be at least ${String(params.limit)} chars long`);
    case 'maxLength':
      return [{ field, message: `Too long: may not be more than ${String(params.limit)} bytes` }];
    case 'minItems':
      return [
        {
          field,
          message: `Invalid value: ${(value as unknown[]).length}: ${field} in body should have at least ${String(params.limit)} items`,
        },
      ];
    case 'maxItems':
      return [
        {
          field,
          message: `Too many: ${(value as unknown[]).length}: must have at most ${String(params.limit)} items`,
        },
      ];
    case 'maxProperties':
      return [
        {
          field,
          message: `Too many: ${Object.keys(value as object).length}: must have at most ${String(params.limit)} items`,
        },
      ];
    case 'pattern':
      return invalid(`should match '${String(params.pattern)}'`);
    case 'format':
      return invalid(`must be of type ${String(params.format)}: ${quoted(value)}`);
    default:
      return invalid(error.message ?? error.keyword);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * The apiserver words a failed rule as `Invalid value: <value>: <message>` on
 * scalars and `Invalid value: <message>` on objects and lists.
 */
function celError(rule: CelRule, value: unknown, path: string): FieldError {
  // A rule on the object itself is reported at `<nil>`, the apiserver's name for the root path.
  const field = rule.fieldPath ? `${path}${rule.fieldPath}` : path || '<nil>';
  switch (rule.reason) {
    case 'FieldValueForbidden':
      return { field, message: `Forbidden: ${rule.message}` };
    case 'FieldValueRequired':
      return { field, message: `Required value: ${rule.message}` };
    case 'FieldValueDuplicate':
      return { field, message: `Duplicate value: ${rule.message}` };
    default: {
      const shown = value !== null && typeof value === 'object' ? '' : `${quoted(value)}: `;
      return { field, message: `Invalid value: ${shown}${rule.message}` };
    }
  }
}

function matchesType(schema: JsonSchema, value: unknown): boolean {
  if (schema['x-kubernetes-int-or-string'] === true)
    return typeof value === 'string' || Number.isInteger(value);
  switch (schema.type) {
    case 'object':
      return isRecord(value);
    case 'array':
      return Array.isArray(value);
    case 'integer':
      return Number.isInteger(value);
    case 'number':
      return typeof value === 'number';
    case 'string':
      return typeof value === 'string';
    case 'boolean':
      return typeof value === 'boolean';
    default:
      return true;
  }
}

function mapKeyOf(item: unknown, keys: readonly string[]): string {
  return JSON.stringify(Object.fromEntries(keys.map((key) => [key, isRecord(item) ? item[key] : undefined])));
}

/** Layers 2 and 3: list-map keys and CEL rules, walking schema, value and old value together. */
function kubernetesErrors(schema: JsonSchema, value: unknown, oldValue: unknown, path: string): FieldError[] {
  if (value === undefined || !matchesType(schema, value)) return [];
  const errors: FieldError[] = [];
  for (const rule of (schema['x-kubernetes-validations'] as CelRule[] | undefined) ?? []) {
    const transition = isTransitionRule(rule);
    if (transition && oldValue === undefined && !rule.optionalOldSelf) continue;
    if (!runCheck(rule, value, oldValue)) errors.push(celError(rule, value, path));
  }
  const join = (name: string) => (path === '' ? name : `${path}.${name}`);
  if (isRecord(value)) {
    const oldRecord = isRecord(oldValue) ? oldValue : undefined;
    const properties = (schema.properties as Record<string, JsonSchema> | undefined) ?? {};
    for (const [name, child] of Object.entries(properties)) {
      errors.push(...kubernetesErrors(child, value[name], oldRecord?.[name], join(name)));
    }
    const additional = schema.additionalProperties;
    if (isRecord(additional)) {
      for (const [name, child] of Object.entries(value)) {
        // The apiserver names a map value by its key in brackets in CEL errors (spec.labels[tier]).
        errors.push(...kubernetesErrors(additional, child, oldRecord?.[name], `${path}[${name}]`));
      }
    }
  }
  if (Array.isArray(value) && isRecord(schema.items)) {
    const items = schema.items;
    const keys =
      schema['x-kubernetes-list-type'] === 'map'
        ? (schema['x-kubernetes-list-map-keys'] as string[])
        : undefined;
    const oldByKey = new Map<string, unknown>();
    if (keys && Array.isArray(oldValue))
      for (const item of oldValue) oldByKey.set(mapKeyOf(item, keys), item);
    const seen = new Set<string>();
    value.forEach((item, index) => {
      const itemPath = `${path}[${index}]`;
      const key = keys ? mapKeyOf(item, keys) : undefined;
      if (key !== undefined) {
        if (seen.has(key)) errors.push({ field: itemPath, message: `Duplicate value: ${key}` });
        seen.add(key);
      }
      // Like the apiserver, only items of map lists are correlated with their old selves.
      errors.push(
        ...kubernetesErrors(items, item, key === undefined ? undefined : oldByKey.get(key), itemPath),
      );
    });
  }
  return errors;
}
