/**
 * Thin builders over TypeBox that emit what a CRD needs and nothing it refuses.
 *
 * Every builder takes the description first, so no node can be left without
 * one (`kubectl explain` reads them), and strings and lists take their bounds
 * up front, because the apiserver prices CEL rules by them and etcd stores the
 * result. The output is plain JSON Schema that is also a structural OpenAPI v3
 * schema: every node typed, maps as `additionalProperties`, enums as
 * `type: string` + `enum`, int-or-string in the one `anyOf` form Kubernetes
 * allows. structural.ts checks those promises for the generated CRDs.
 */
import Type from 'typebox';
import type { TArray, TBoolean, TInteger, TObject, TProperties, TSchema, TString, TUnsafe } from 'typebox';
import type { CelRule } from './cel-rule.ts';

export { Type };
export type { Static, TProperties, TSchema } from 'typebox';

/** Options every node accepts. */
export interface NodeOptions {
  /** CEL rules on this node (`x-kubernetes-validations`). Default: none. */
  readonly rules?: readonly CelRule[];
  /** The value the apiserver fills in when the field is absent. Default: none. */
  readonly default?: unknown;
}

function node(
  description: string,
  options: NodeOptions,
  rest: Record<string, unknown>,
): Record<string, unknown> {
  const { rules, default: defaultValue } = options;
  return {
    description,
    ...rest,
    ...(defaultValue === undefined ? {} : { default: defaultValue }),
    ...(rules && rules.length > 0 ? { 'x-kubernetes-validations': rules } : {}),
  };
}

function dropUndefined(options: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
}

export interface StringOptions extends NodeOptions {
  /** Upper bound in characters; required so CEL cost and object size stay bounded. */
  readonly maxLength: number;
  /** Default: no lower bound. */
  readonly minLength?: number;
  /** An ECMA-262 / RE2-compatible regular expression. Default: none. */
  readonly pattern?: string;
  /** A format both the apiserver and ajv know (`date-time`). Default: none. */
  readonly format?: string;
}

export function string(description: string, options: StringOptions): TString {
  const { maxLength, minLength, pattern, format } = options;
  return Type.String(node(description, options, dropUndefined({ maxLength, minLength, pattern, format })));
}

/** A string restricted to a fixed set of values; typed as the union of those values. */
export function stringEnum<const Values extends readonly [string, ...string[]]>(
  description: string,
  values: Values,
  options: NodeOptions = {},
): TUnsafe<Values[number]> {
  return Type.Unsafe<Values[number]>(node(description, options, { type: 'string', enum: [...values] }));
}

export interface IntegerOptions extends NodeOptions {
  /** Default: no lower bound. */
  readonly minimum?: number;
  /** Default: no upper bound. */
  readonly maximum?: number;
  /** Default: int32, the size Kubernetes uses for counts. */
  readonly format?: 'int32' | 'int64';
}

export function integer(description: string, options: IntegerOptions = {}): TInteger {
  const { minimum, maximum, format = 'int32' } = options;
  return Type.Integer(node(description, options, dropUndefined({ format, minimum, maximum })));
}

export function boolean(description: string, options: NodeOptions = {}): TBoolean {
  return Type.Boolean(node(description, options, {}));
}

export interface ObjectOptions extends NodeOptions {
  /** `atomic` makes server-side apply replace the object whole. Default: granular. */
  readonly mapType?: 'atomic' | 'granular';
}

export function object<Properties extends TProperties>(
  description: string,
  properties: Properties,
  options: ObjectOptions = {},
): TObject<Properties> {
  const extra = options.mapType ? { 'x-kubernetes-map-type': options.mapType } : {};
  return Type.Object(properties, node(description, options, extra));
}

export interface ListOptions extends NodeOptions {
  /** Upper bound on items; required so CEL cost and object size stay bounded. */
  readonly maxItems: number;
  /** Default: no lower bound. */
  readonly minItems?: number;
  /** How server-side apply merges the list. Default: atomic. */
  readonly listType?: 'atomic' | 'set';
}

export function list<Item extends TSchema>(
  description: string,
  items: Item,
  options: ListOptions,
): TArray<Item> {
  const { maxItems, minItems, listType = 'atomic' } = options;
  return Type.Array(
    items,
    node(description, options, dropUndefined({ maxItems, minItems, 'x-kubernetes-list-type': listType })),
  );
}

/**
 * A list whose items are identified by `keys` (`x-kubernetes-list-type: map`):
 * the apiserver rejects two items with the same keys and server-side apply
 * merges item by item. Key fields must be required in the item schema.
 */
export function mapList<Item extends TSchema>(
  description: string,
  items: Item,
  keys: readonly [string, ...string[]],
  options: Omit<ListOptions, 'listType'>,
): TArray<Item> {
  const { maxItems, minItems } = options;
  return Type.Array(
    items,
    node(
      description,
      options,
      dropUndefined({
        maxItems,
        minItems,
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': [...keys],
      }),
    ),
  );
}

export interface MapOptions extends NodeOptions {
  /** Upper bound on entries. */
  readonly maxProperties: number;
}

/** A string-keyed map (`additionalProperties`), typed as a Record of the value schema's type. */
export function map<Value extends TSchema>(
  description: string,
  value: Value,
  options: MapOptions,
): TUnsafe<Record<string, Type.Static<Value>>> {
  return Type.Unsafe<Record<string, Type.Static<Value>>>(
    node(description, options, {
      type: 'object',
      maxProperties: options.maxProperties,
      additionalProperties: value,
    }),
  );
}

/** A string-to-string map such as labels or extra flags. */
export function stringMap(
  description: string,
  options: MapOptions & { readonly valueMaxLength: number },
): TUnsafe<Record<string, string>> {
  return map(description, Type.String({ maxLength: options.valueMaxLength }), options);
}

export interface IntOrStringOptions extends NodeOptions {
  /** Bounds the string form (applies to strings only). */
  readonly maxLength: number;
  /** A regular expression the string form must match. Default: none. */
  readonly pattern?: string;
}

/**
 * An integer or a string (Kubernetes IntOrString), e.g. `maxUnavailable: 1` or
 * `"25%"`. Written in the only `anyOf` form a structural schema allows; what the
 * string may contain is up to CEL rules on the node.
 */
export function intOrString(description: string, options: IntOrStringOptions): TUnsafe<number | string> {
  return Type.Unsafe<number | string>(
    node(description, options, {
      'x-kubernetes-int-or-string': true,
      anyOf: [{ type: 'integer' }, { type: 'string' }],
      ...dropUndefined({ maxLength: options.maxLength, pattern: options.pattern }),
    }),
  );
}

const QUANTITY_PATTERN = String.raw`^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$`;

/** A resource.Quantity such as `8Gi`, `500m` or `2`. */
export function quantity(description: string, options: NodeOptions = {}): TUnsafe<number | string> {
  return intOrString(description, { ...options, maxLength: 64, pattern: QUANTITY_PATTERN });
}

/** An RFC 3339 timestamp, as metav1.Time serialises. */
export function timestamp(description: string): TUnsafe<string> {
  return Type.Unsafe<string>({ description, type: 'string', format: 'date-time' });
}

/** Marks a property optional (absent from `required`). */
export const optional = Type.Optional;
