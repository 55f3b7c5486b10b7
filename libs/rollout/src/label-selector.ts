/** A Kubernetes label selector (metav1.LabelSelector), as wave selectors are written. */
export interface LabelSelector {
  /** Labels that must all be present with exactly these values. */
  matchLabels?: Readonly<Record<string, string>>;
  /** Requirements that must all hold. */
  matchExpressions?: readonly LabelSelectorRequirement[];
}

export interface LabelSelectorRequirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  /** Non-empty for In and NotIn, absent or empty for Exists and DoesNotExist. */
  values?: readonly string[];
}

/** The value of label `key`, or undefined; never something inherited such as `labels.constructor`. */
export function labelValue(labels: Readonly<Record<string, string>>, key: string): string | undefined {
  return Object.hasOwn(labels, key) ? labels[key] : undefined;
}

/** Whether `labels` satisfy `selector`, with Kubernetes semantics: an empty selector matches everything. */
export function matchesSelector(labels: Readonly<Record<string, string>>, selector: LabelSelector): boolean {
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (labelValue(labels, key) !== value) return false;
  }
  return (selector.matchExpressions ?? []).every((requirement) => meetsRequirement(labels, requirement));
}

function meetsRequirement(
  labels: Readonly<Record<string, string>>,
  requirement: LabelSelectorRequirement,
): boolean {
  const value = labelValue(labels, requirement.key);
  const values = requirement.values ?? [];
  switch (requirement.operator) {
    case 'In':
      return value !== undefined && values.includes(value);
    case 'NotIn':
      return value === undefined || !values.includes(value);
    case 'Exists':
      return value !== undefined;
    case 'DoesNotExist':
      return value === undefined;
  }
}

/** Why `selector` is not a valid label selector, one message per problem, naming `field`. */
export function labelSelectorProblems(selector: LabelSelector, field: string): string[] {
  return (selector.matchExpressions ?? []).flatMap((requirement, index) => {
    const where = `${field}.matchExpressions[${index}]`;
    const count = requirement.values?.length ?? 0;
    switch (requirement.operator) {
      case 'In':
      case 'NotIn':
        return count > 0 ? [] : [`${where}: operator ${requirement.operator} needs at least one value`];
      case 'Exists':
      case 'DoesNotExist':
        return count === 0 ? [] : [`${where}: operator ${requirement.operator} takes no values`];
      default:
        return [
          `${where}: operator must be In, NotIn, Exists or DoesNotExist, got ${JSON.stringify(requirement.operator)}`,
        ];
    }
  });
}
