/**
 * Schemas shared by several kinds: metadata, conditions, selectors, taints,
 * versions, durations, files. Each string rule is written once as a regular
 * expression and becomes both the CEL rule and its TypeScript twin.
 */
import { cel } from './cel-rule.ts';
import type { CelRule } from './cel-rule.ts';
import { goDurationMs } from './go-duration.ts';
import * as s from './schema-builders.ts';
import type { Static } from './schema-builders.ts';

/**
 * A rule "the string matches `pattern`" with a human message. The pattern is
 * passed to CEL as a raw string, so it must not contain a single quote.
 */
export function matchesRule(pattern: string, message: string): CelRule {
  const regex = new RegExp(pattern);
  return cel<string>({ rule: `self.matches(r'${pattern}')`, message, check: (self) => regex.test(self) });
}

const SEMVER_TAIL = String.raw`(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$`;
export const COMPONENT_VERSION_PATTERN = String.raw`^v?[0-9]+\.[0-9]+\.[0-9]+` + SEMVER_TAIL;
export const KUBERNETES_VERSION_PATTERN = String.raw`^v[0-9]+\.[0-9]+\.[0-9]+` + SEMVER_TAIL;
export const DURATION_PATTERN = String.raw`^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$`;
/** RFC 1123 label: what Kubernetes accepts as a Service or namespace name. */
export const DNS_LABEL_PATTERN = String.raw`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`;
/** RFC 1123 subdomain: dot-separated labels. */
export const DNS_SUBDOMAIN_PATTERN = String.raw`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`;

/** A software version such as `1.7.22` or `v1.36.3-ant.2`. */
export function componentVersion(description: string) {
  return s.string(description, {
    maxLength: 64,
    rules: [
      matchesRule(
        COMPONENT_VERSION_PATTERN,
        'version must look like 1.2.3 or v1.2.3, optionally followed by -prerelease or +build',
      ),
    ],
  });
}

/** A Kubernetes version such as `v1.36.3`. */
export function kubernetesVersion(description: string, extraRules: readonly CelRule[] = []) {
  return s.string(description, {
    maxLength: 64,
    rules: [
      matchesRule(KUBERNETES_VERSION_PATTERN, 'version must be a Kubernetes version like v1.36.3'),
      ...extraRules,
    ],
  });
}

/**
 * The longest duration a spec may ask for. The operators wait for durations
 * with timers, and a Node.js timer holds at most 2^31-1 ms (about 24.8 days);
 * a week is well inside that and longer than any sensible wait.
 */
export const MAX_DURATION = '168h';
const MAX_DURATION_MS = goDurationMs(MAX_DURATION);

/** A Go duration such as `90s`, `5m` or `1h30m`, at most MAX_DURATION (a week). */
export function duration(description: string, options: { default?: string } = {}) {
  return s.string(`${description} At most ${MAX_DURATION} (a week).`, {
    maxLength: 32,
    ...options,
    rules: [
      matchesRule(DURATION_PATTERN, 'must be a duration like 90s, 5m or 1h30m'),
      // Checked only for a well-formed duration: the rule above already names what is wrong with the others.
      cel<string>({
        rule: `!self.matches(r'${DURATION_PATTERN}') || duration(self) <= duration('${MAX_DURATION}')`,
        message: `must be at most ${MAX_DURATION} (a week)`,
        check: (self) => !(goDurationMs(self) > MAX_DURATION_MS),
      }),
    ],
  });
}

/** A name that must be an RFC 1123 label (lower case alphanumerics and '-'). */
export function dnsLabel(description: string) {
  return s.string(description, { maxLength: 63, minLength: 1, pattern: DNS_LABEL_PATTERN });
}

export const absolutePathRule = cel<string>({
  rule: String.raw`self.startsWith('/') && !self.matches(r'(^|/)\.\.(/|$)')`,
  message: "path must be absolute (start with /) and must not contain '..'",
  check: (self) => self.startsWith('/') && !/(^|\/)\.\.(\/|$)/.test(self),
});

/** The object metadata the kinds use. The generated CRDs declare it as a bare object: the apiserver owns it. */
export const ObjectMeta = s.object('Standard object metadata.', {
  name: s.optional(s.string('Name of the object.', { maxLength: 253 })),
  namespace: s.optional(s.string('Namespace of the object (namespaced kinds only).', { maxLength: 63 })),
  uid: s.optional(s.string('Unique id assigned by the apiserver.', { maxLength: 64 })),
  resourceVersion: s.optional(s.string('Opaque version for optimistic concurrency.', { maxLength: 64 })),
  generation: s.optional(s.integer('Sequence number of spec changes.', { format: 'int64' })),
  creationTimestamp: s.optional(s.timestamp('When the object was created.')),
  deletionTimestamp: s.optional(s.timestamp('When deletion was requested.')),
  labels: s.optional(s.stringMap('Labels.', { maxProperties: 4096, valueMaxLength: 63 })),
  annotations: s.optional(s.stringMap('Annotations.', { maxProperties: 4096, valueMaxLength: 262144 })),
  finalizers: s.optional(
    s.list('Finalizers.', s.string('A finalizer.', { maxLength: 317 }), { maxItems: 64 }),
  ),
});
export type ObjectMeta = Static<typeof ObjectMeta>;

/** metav1.Condition. */
export const Condition = s.object(
  'One aspect of the current state of this object, in metav1.Condition form.',
  {
    type: s.string('Type of condition in CamelCase, e.g. Available.', {
      maxLength: 316,
      pattern: String.raw`^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$`,
    }),
    status: s.stringEnum('Status of the condition.', ['True', 'False', 'Unknown']),
    observedGeneration: s.optional(
      s.integer('The .metadata.generation the condition was set for.', { minimum: 0, format: 'int64' }),
    ),
    lastTransitionTime: s.timestamp('When the condition last changed status.'),
    reason: s.string('Programmatic CamelCase identifier of why the condition is in this status.', {
      maxLength: 1024,
      minLength: 1,
      pattern: String.raw`^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$`,
    }),
    message: s.string('Human readable details of the transition; may be empty.', { maxLength: 32768 }),
  },
);
export type Condition = Static<typeof Condition>;

export function conditions(description: string) {
  return s.mapList(description, Condition, ['type'], { maxItems: 32 });
}

export const LabelSelectorRequirement = s.object('A label requirement: key, operator and values.', {
  key: s.string('The label key the requirement applies to.', { maxLength: 317 }),
  operator: s.stringEnum('How the key relates to the values.', ['In', 'NotIn', 'Exists', 'DoesNotExist']),
  values: s.optional(
    s.list(
      'Values for In and NotIn; must be empty for Exists and DoesNotExist.',
      s.string('A label value.', { maxLength: 63 }),
      { maxItems: 64 },
    ),
  ),
});

/** metav1.LabelSelector. */
export function labelSelector(description: string) {
  return s.object(description, labelSelectorProperties(), { mapType: 'atomic' });
}
const labelSelectorProperties = () => ({
  matchLabels: s.optional(
    s.stringMap('Labels that must all match exactly (ANDed with matchExpressions).', {
      maxProperties: 64,
      valueMaxLength: 63,
    }),
  ),
  matchExpressions: s.optional(
    s.list('Label requirements that must all hold.', LabelSelectorRequirement, { maxItems: 32 }),
  ),
});
export type LabelSelector = Static<ReturnType<typeof labelSelector>>;

export const Taint = s.object('A taint the Node must carry (core/v1 Taint).', {
  key: s.string('The taint key.', { maxLength: 317, minLength: 1 }),
  value: s.optional(s.string('The taint value.', { maxLength: 63 })),
  effect: s.stringEnum('What the taint does to pods that do not tolerate it.', [
    'NoSchedule',
    'PreferNoSchedule',
    'NoExecute',
  ]),
});
export type Taint = Static<typeof Taint>;

export function keySelector(description: string) {
  return s.object(
    description,
    {
      namespace: s.string('Namespace of the object.', { maxLength: 63, minLength: 1 }),
      name: s.string('Name of the object.', { maxLength: 253, minLength: 1 }),
      key: s.string('Key within the object data.', { maxLength: 253, minLength: 1 }),
    },
    { mapType: 'atomic' },
  );
}

/** A file on the host, with its content inline or from a Secret or ConfigMap. */
export const FileSpec = s.object(
  'A file the node agent writes atomically on the host.',
  {
    path: s.string('Absolute path of the file on the host; it names a file, so it does not end with /.', {
      maxLength: 1024,
      minLength: 1,
      rules: [
        absolutePathRule,
        cel<string>({
          rule: "!self.endsWith('/')",
          message: 'a file path must not end with /',
          check: (self) => !self.endsWith('/'),
        }),
      ],
    }),
    content: s.optional(
      s.string(
        'The file content, inline. On the host, $(KOK_ROOT), $(KOK_NODE_NAME) and $(KOK_NODE_IP) (the Machine address) are replaced in it, as in a Component command, so one pool template serves hosts whose paths or addresses differ.',
        { maxLength: 262144 },
      ),
    ),
    secretRef: s.optional(keySelector('Take the content from this Secret key.')),
    configMapRef: s.optional(keySelector('Take the content from this ConfigMap key.')),
    // No schema default: the default depends on the source, which a default cannot see.
    mode: s.optional(
      s.integer(
        'Permission bits, e.g. 420 (0644 in YAML octal). Default 384 (0600) for a file from secretRef, 420 (0644) otherwise.',
        { minimum: 0, maximum: 511 },
      ),
    ),
  },
  {
    rules: [
      cel<{ content?: string; secretRef?: object; configMapRef?: object }>({
        rule: '[has(self.content), has(self.secretRef), has(self.configMapRef)].filter(x, x).size() == 1',
        message: 'exactly one of content, secretRef or configMapRef must be set',
        check: (self) =>
          [self.content, self.secretRef, self.configMapRef].filter((x) => x !== undefined).length === 1,
      }),
    ],
  },
);
export type FileSpec = Static<typeof FileSpec>;

export const MAX_FILES = 128;
export const MAX_COMPONENTS = 32;

export function files(description: string) {
  return s.mapList(description, FileSpec, ['path'], {
    maxItems: MAX_FILES,
    rules: [
      cel<{ path: string }[]>({
        rule: 'self.all(f, self.exists_one(g, g.path == f.path))',
        message: 'file paths must be unique',
        check: (self) => new Set(self.map((f) => f.path)).size === self.length,
      }),
    ],
  });
}

export const ComponentVersionRef = s.object('A component (by Component name) at a version.', {
  name: dnsLabel('Name of the Component object that describes this software.'),
  version: componentVersion('The version to run; must be listed in the Component versions.'),
});
export type ComponentVersionRef = Static<typeof ComponentVersionRef>;

export function components(description: string) {
  return s.mapList(description, ComponentVersionRef, ['name'], {
    maxItems: MAX_COMPONENTS,
    rules: [
      cel<{ name: string }[]>({
        rule: 'self.all(c, self.exists_one(d, d.name == c.name))',
        message: 'component names must be unique',
        check: (self) => new Set(self.map((c) => c.name)).size === self.length,
      }),
    ],
  });
}

export const LastOperation = s.object('The last long-running operation and how it went (Gardener shape).', {
  type: s.string('What the operation did, e.g. Update, Remediate, Create, Upgrade, Delete.', {
    maxLength: 64,
  }),
  state: s.stringEnum('Where the operation stands.', [
    'Pending',
    'Processing',
    'Succeeded',
    'Failed',
    'Aborted',
  ]),
  progress: s.optional(s.integer('Percent complete, 0 to 100.', { minimum: 0, maximum: 100 })),
  message: s.optional(s.string('Human readable details.', { maxLength: 4096 })),
  startedAt: s.optional(s.timestamp('When the operation started.')),
  finishedAt: s.optional(s.timestamp('When the operation finished.')),
});
export type LastOperation = Static<typeof LastOperation>;

export function observedGeneration() {
  return s.integer('The .metadata.generation the controller last acted on.', { minimum: 0, format: 'int64' });
}
