/**
 * A CEL validation rule (`x-kubernetes-validations`) paired with the same rule
 * written in TypeScript.
 *
 * The apiserver evaluates `rule`; code that validates objects without an
 * apiserver (the operators' ajv layer, `kubectl kok validate`, tests) evaluates
 * `check`. Both live in one object next to the schema node they guard, and the
 * shared table of invalid objects (invalid-objects.ts) is run through both the
 * apiserver and the TypeScript layer, so a rule whose two halves disagree fails
 * a test instead of drifting silently.
 *
 * `check` is a function, so it disappears when the schema is serialised to JSON
 * or YAML: the generated CRDs carry only `rule`, `message` and the other CEL
 * fields.
 */
export interface CelRule {
  /** The CEL expression; `self` is the value of the node, `oldSelf` its previous value on update. */
  readonly rule: string;
  /** The message shown to the user when the rule is false. Written as advice a person can act on. */
  readonly message: string;
  /** The error type reported; the apiserver default is FieldValueInvalid. */
  readonly reason?: CelRuleReason;
  /** A relative JSON path (`.address`) to report the error on instead of the node itself. */
  readonly fieldPath?: string;
  /**
   * The rule runs on create as well, where `oldSelf` is an optional without a
   * value (`oldSelf.hasValue()` is false) and the twin receives undefined.
   * Default: a rule naming `oldSelf` runs on update only.
   */
  readonly optionalOldSelf?: boolean;
  /** TypeScript twin of `rule`. Receives the node's value and, for transition rules, the old value. */
  readonly check: (self: never, oldSelf: never) => boolean;
}

export type CelRuleReason =
  'FieldValueInvalid' | 'FieldValueForbidden' | 'FieldValueRequired' | 'FieldValueDuplicate';

/** Builds a rule whose TypeScript half is typed against the node's value. */
export function cel<T>(definition: {
  rule: string;
  message: string;
  reason?: CelRuleReason;
  fieldPath?: string;
  optionalOldSelf?: boolean;
  check: (self: T, oldSelf: T) => boolean;
}): CelRule {
  return definition as CelRule;
}

/** A transition rule refers to `oldSelf`; the apiserver evaluates it only on update, when an old value exists. */
export function isTransitionRule(rule: CelRule): boolean {
  return /\boldSelf\b/.test(rule.rule);
}

/** Runs the TypeScript half of a rule. A value of the wrong shape counts as a pass: schema validation reports it. */
export function runCheck(rule: CelRule, self: unknown, oldSelf: unknown): boolean {
  try {
    return (rule.check as (self: unknown, oldSelf: unknown) => boolean)(self, oldSelf);
  } catch {
    return true;
  }
}
