/**
 * Schemas shared by several kinds: metadata, conditions, selectors, taints,
 * versions, durations, files. Each string rule is written once as a regular
 * expression and becomes both the CEL rule and its TypeScript twin.
 *
 * Over 400 lines on purpose: a catalog of small builders, each a few lines;
 * one file is where each shared rule is written once.
 */
import { cel } from './cel-rule.ts';
import type { CelRule } from './cel-rule.ts';
import { goDurationMs } from './go-duration.ts';
import { isIpAddress } from './network-addresses.ts';
import { DNS_LABEL_PATTERN, SYSTEMD_UNIT_PATTERN } from './string-patterns.ts';
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
export { DNS_LABEL_PATTERN, SYSTEMD_UNIT_PATTERN };
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

// Every free-form string that reaches a host path, a unit, a URL, a flag, a
// label, a certificate or a network setting belongs to one of the classes
// below; each class is one builder, with a message that says what to write.

const DNS_LABEL_MESSAGE =
  "must be a lower-case RFC 1123 label: a-z, 0-9 and '-', at most 63 characters, starting and ending with a letter or digit, e.g. workers";

/** A name that must be an RFC 1123 label (lower case alphanumerics and '-'). */
export function dnsLabel(description: string, message = DNS_LABEL_MESSAGE) {
  return s.string(description, {
    maxLength: 63,
    minLength: 1,
    rules: [matchesRule(DNS_LABEL_PATTERN, message)],
  });
}

/**
 * The name of a Component. The agent makes it a directory (/opt/kok/<name>)
 * and a systemd unit (kok-<name>.service), so it is a DNS label: no '/', no
 * '..', no leading '-'.
 */
export function componentName(description: string) {
  return dnsLabel(
    description,
    "a component name must be the name of a Component: a-z, 0-9 and '-', at most 63 characters, starting and ending with a letter or digit, e.g. kubelet (it becomes a directory and a service name on the host)",
  );
}

/** A DNS subdomain such as a Secret, StorageClass or domain name. */
export function dnsSubdomain(description: string, what: string) {
  return s.string(description, {
    maxLength: 253,
    minLength: 1,
    rules: [
      matchesRule(
        DNS_SUBDOMAIN_PATTERN,
        `${what} must be a lower-case DNS subdomain: dot-separated labels of a-z, 0-9 and '-', each starting and ending with a letter or digit, e.g. example.internal`,
      ),
    ],
  });
}

export const absolutePathRule = cel<string>({
  rule: String.raw`self.startsWith('/') && !self.matches(r'(^|/)\.\.(/|$)')`,
  message: "path must be absolute (start with /) and must not contain '..' segments",
  check: (self) => self.startsWith('/') && !/(^|\/)\.\.(\/|$)/.test(self),
});

const CONTROL_CHARACTERS = String.raw`[\x00-\x1f\x7f]`;

/** No NUL, tab or line break: a host path or unit name reaches files and command lines. */
export const noControlCharactersRule = cel<string>({
  rule: `!self.matches(r'${CONTROL_CHARACTERS}')`,
  message: 'must not contain control characters (NUL, tab, line breaks): write the value on one line',
  check: (self) => !new RegExp(CONTROL_CHARACTERS).test(self),
});

const fileNotDirectoryRule = cel<string>({
  rule: "!self.endsWith('/')",
  message: 'a file path must not end with /',
  check: (self) => !self.endsWith('/'),
});

/**
 * An absolute path on a host: no '..' segment and no control character. With
 * `file`, it names a file, so it must not end with '/'.
 */
export function hostPath(description: string, options: { file?: boolean } = {}) {
  return s.string(description, {
    maxLength: 1024,
    minLength: 1,
    rules: [absolutePathRule, noControlCharactersRule, ...(options.file ? [fileNotDirectoryRule] : [])],
  });
}

/** A systemd unit name such as kubelet.service: passed to systemctl, so never a path or a flag. */
export function systemdUnit(description: string) {
  return s.string(description, {
    maxLength: 256,
    minLength: 1,
    rules: [
      matchesRule(
        SYSTEMD_UNIT_PATTERN,
        "unit must be a systemd unit name like kubelet.service: letters, digits, ':', '_', '.', '@' and '-', not starting with '-' or '.', ending in .service, .socket, .target, .timer, .path or .mount",
      ),
    ],
  });
}

/** `^(https?)://host…`: a URL with a host, no whitespace. */
function urlPattern(schemes: readonly string[]): string {
  const withHost = schemes.filter((scheme) => scheme !== 'file');
  const parts = [
    ...(withHost.length > 0 ? [String.raw`(${withHost.join('|')})://[^\s/?#]+([/?#]\S*)?`] : []),
    ...(schemes.includes('file') ? [String.raw`file:///\S*`] : []),
  ];
  return `^(${parts.join('|')})$`;
}

/**
 * A URL of one of `schemes`. http(s) URLs need a host; file URLs are
 * file:///absolute/path. No whitespace anywhere.
 */
export function url(description: string, schemes: readonly ('http' | 'https' | 'file')[], example: string) {
  const shown = schemes.map((scheme) => (scheme === 'file' ? 'file:///' : `${scheme}://`)).join(', ');
  return s.string(description, {
    maxLength: 2048,
    minLength: 1,
    rules: [
      matchesRule(
        urlPattern(schemes),
        `url must start with ${shown}, name a host (file:/// names a path) and contain no spaces, e.g. ${example}`,
      ),
    ],
  });
}

/** RFC 1123 subdomain, optionally with a leading `*.` wildcard label (certificate names). */
export const WILDCARD_DNS_NAME_PATTERN = String.raw`^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`;

/**
 * An IP address or a lower-case DNS name: where a host is reached, or a
 * subject alternative name of a certificate (which may start with `*.`).
 */
export function ipOrDnsName(description: string, what: string, options: { wildcard?: boolean } = {}) {
  const pattern = options.wildcard ? WILDCARD_DNS_NAME_PATTERN : DNS_SUBDOMAIN_PATTERN;
  const regex = new RegExp(pattern);
  return s.string(description, {
    maxLength: 253,
    minLength: 1,
    rules: [
      cel<string>({
        rule: `isIP(self) || self.matches(r'${pattern}')`,
        message: `${what} must be an IP address like 10.0.0.7 or fd00::7, or a lower-case DNS name like api.example.internal${options.wildcard ? ' (or *.example.internal)' : ''}`,
        check: (self) => isIpAddress(self) || regex.test(self),
      }),
    ],
  });
}

const LABEL_NAME = String.raw`[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?`;
/** A label key: `name` or `prefix/name`, the prefix a DNS subdomain. */
export const LABEL_KEY_PATTERN =
  String.raw`^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?` + `${LABEL_NAME}$`;
export const LABEL_VALUE_PATTERN = `^(${LABEL_NAME})?$`;

const LABEL_KEY_MESSAGE =
  "must be a label key: a name like tier, optionally after a DNS-subdomain prefix and '/' (example.com/tier); the name is at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit";
const LABEL_VALUE_MESSAGE =
  "must be a label value: empty, or at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit";

/** A label (or taint) key such as `topology.kubernetes.io/zone`. */
export function labelKey(description: string) {
  return s.string(description, {
    maxLength: 317,
    minLength: 1,
    rules: [matchesRule(LABEL_KEY_PATTERN, LABEL_KEY_MESSAGE)],
  });
}

/** A label (or taint) value; may be empty. */
export function labelValue(description: string) {
  return s.string(description, {
    maxLength: 63,
    rules: [matchesRule(LABEL_VALUE_PATTERN, LABEL_VALUE_MESSAGE)],
  });
}

/** Labels: keys and values as Kubernetes accepts them on a Node or in a selector. */
export function labels(description: string, options: { maxProperties: number }) {
  const key = new RegExp(LABEL_KEY_PATTERN);
  return s.map(description, labelValue('A label value.'), {
    maxProperties: options.maxProperties,
    rules: [
      cel<Record<string, string>>({
        rule: `self.all(k, k.matches(r'${LABEL_KEY_PATTERN}'))`,
        message: `every key ${LABEL_KEY_MESSAGE}`,
        check: (self) => Object.keys(self).every((k) => key.test(k)),
      }),
    ],
  });
}

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

/** A condition type such as Ready or example.com/KernelDeadlock. */
export const CONDITION_TYPE_PATTERN = String.raw`^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$`;

/** metav1.Condition. */
export const Condition = s.object(
  'One aspect of the current state of this object, in metav1.Condition form.',
  {
    type: s.string('Type of condition in CamelCase, e.g. Available.', {
      maxLength: 316,
      pattern: CONDITION_TYPE_PATTERN,
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
  key: labelKey('The label key the requirement applies to.'),
  operator: s.stringEnum('How the key relates to the values.', ['In', 'NotIn', 'Exists', 'DoesNotExist']),
  values: s.optional(
    s.list(
      'Values for In and NotIn; must be empty for Exists and DoesNotExist.',
      labelValue('A label value.'),
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
    labels('Labels that must all match exactly (ANDed with matchExpressions).', { maxProperties: 64 }),
  ),
  matchExpressions: s.optional(
    // 16: every value of every requirement is checked by a CEL rule, priced by these bounds.
    s.list('Label requirements that must all hold.', LabelSelectorRequirement, { maxItems: 16 }),
  ),
});
export type LabelSelector = Static<ReturnType<typeof labelSelector>>;

export const Taint = s.object('A taint the Node must carry (core/v1 Taint).', {
  key: labelKey('The taint key; written like a label key.'),
  value: s.optional(labelValue('The taint value; written like a label value.')),
  effect: s.stringEnum('What the taint does to pods that do not tolerate it.', [
    'NoSchedule',
    'PreferNoSchedule',
    'NoExecute',
  ]),
});
export type Taint = Static<typeof Taint>;

/** A key of Secret or ConfigMap data. */
export const CONFIG_KEY_PATTERN = String.raw`^[-._a-zA-Z0-9]+$`;

export function keySelector(description: string) {
  return s.object(
    description,
    {
      namespace: dnsLabel('Namespace of the object.'),
      name: dnsSubdomain('Name of the object.', 'name'),
      key: s.string('Key within the object data.', {
        maxLength: 253,
        minLength: 1,
        rules: [
          matchesRule(
            CONFIG_KEY_PATTERN,
            "key must be a Secret or ConfigMap key: letters, digits, '-', '_' or '.', e.g. config.toml",
          ),
        ],
      }),
    },
    { mapType: 'atomic' },
  );
}

/** A file on the host, with its content inline or from a Secret or ConfigMap. */
export const FileSpec = s.object(
  'A file the node agent writes atomically on the host.',
  {
    path: hostPath('Absolute path of the file on the host; it names a file, so it does not end with /.', {
      file: true,
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
  name: componentName('Name of the Component object that describes this software.'),
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
