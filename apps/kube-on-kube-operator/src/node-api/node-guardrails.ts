/**
 * The node-operator chart's guardrails for people, which kube-on-kube installs
 * into every biz-cluster with the node API: the admission policies of
 * charts/node-operator/templates/validating-admission-policies.yaml and the
 * user roles of aggregated-roles.yaml, rendered with the chart's default
 * values (release and role prefix kok-node). Why each rule exists is said
 * there. node-guardrails.integration.test.ts keeps these equal to
 * `helm template` of the chart: after changing the chart, copy its
 * rendering here.
 */
import type { KubernetesObject } from '@kubernetes/client-node';

/** A rendered chart object: its kind's fields (spec, rules, aggregationRule) beside the metadata. */
export type ChartObject = KubernetesObject & Record<string, unknown>;

/** What the chart's refusals tell a person to do to change a guardrail. */
export const CHART_HOW_TO_CHANGE =
  'or ask whoever installs the node-operator chart to change admissionGuardrails';
/**
 * In a biz-cluster kube-on-kube runs, the guardrails are the chart's defaults, with no values to change.
 * It lands inside single-quoted CEL strings: no quotes.
 */
export const BIZ_CLUSTER_HOW_TO_CHANGE =
  'or ask the admins of the meta-cluster: kube-on-kube installs the defaults of the node-operator chart for admissionGuardrails';

/** The chart's ValidatingAdmissionPolicies and their bindings, each policy before its binding, as rendered. */
export const chartGuardrailPolicies: readonly ChartObject[] = [
  {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingAdmissionPolicy',
    metadata: {
      name: 'kok-node-file-paths',
    },
    spec: {
      failurePolicy: 'Fail',
      matchConstraints: {
        resourceRules: [
          {
            apiGroups: ['nodes.kok.dev'],
            apiVersions: ['*'],
            operations: ['CREATE', 'UPDATE'],
            resources: ['nodepools', 'machines'],
          },
        ],
      },
      variables: [
        {
          name: 'allowedPrefixes',
          expression:
            '["/etc/kubernetes/","/etc/containerd/","/etc/cni/","/etc/node-problem-detector/","/var/lib/kubelet/"]',
        },
        {
          name: 'files',
          expression:
            "request.kind.kind == 'NodePool' ? object.spec.template.?files.orValue([]) : object.?spec.?files.orValue([])",
        },
        {
          name: 'oldFiles',
          expression:
            "oldObject == null ? [] : request.kind.kind == 'NodePool' ? oldObject.spec.template.?files.orValue([]) : oldObject.?spec.?files.orValue([])",
        },
        {
          name: 'forbidden',
          expression:
            'variables.files.map(f, f.path).filter(p, !variables.allowedPrefixes.exists(a, p.startsWith(a)))',
        },
      ],
      validations: [
        {
          expression: 'variables.files == variables.oldFiles || variables.forbidden.size() == 0',
          messageExpression:
            "request.kind.kind + ' \"' + request.name + '\": file paths outside the allowed prefixes (' + variables.allowedPrefixes.join(', ') + '): ' + variables.forbidden.join(', ') + '. The node agent writes these files as root; put them under an allowed prefix, or ask whoever installs the node-operator chart to change admissionGuardrails.allowedFilePathPrefixes'",
          reason: 'Forbidden',
        },
      ],
    },
  },
  {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingAdmissionPolicy',
    metadata: {
      name: 'kok-node-install-paths',
    },
    spec: {
      failurePolicy: 'Fail',
      matchConstraints: {
        resourceRules: [
          {
            apiGroups: ['nodes.kok.dev'],
            apiVersions: ['*'],
            operations: ['CREATE', 'UPDATE'],
            resources: ['components'],
          },
        ],
      },
      variables: [
        {
          name: 'allowedPrefixes',
          expression: '["/usr/local/","/opt/"]',
        },
        {
          name: 'path',
          expression: "object.spec.install.?path.orValue('')",
        },
        {
          name: 'oldPath',
          expression: "oldObject == null ? '' : oldObject.spec.install.?path.orValue('')",
        },
      ],
      validations: [
        {
          expression:
            "variables.path == '' || variables.path == variables.oldPath || variables.allowedPrefixes.exists(a, variables.path.startsWith(a))",
          messageExpression:
            "'Component \"' + request.name + '\": install.path ' + variables.path + ' is outside the allowed prefixes (' + variables.allowedPrefixes.join(', ') + '). The node agent replaces whatever file is there with a link to the component; install under an allowed prefix, or ask whoever installs the node-operator chart to change admissionGuardrails.allowedInstallPathPrefixes'",
          reason: 'Forbidden',
        },
      ],
    },
  },
  {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingAdmissionPolicy',
    metadata: {
      name: 'kok-node-pool-selectors',
    },
    spec: {
      failurePolicy: 'Fail',
      matchConstraints: {
        resourceRules: [
          {
            apiGroups: ['nodes.kok.dev'],
            apiVersions: ['*'],
            operations: ['CREATE', 'UPDATE'],
            resources: ['nodepools'],
          },
        ],
      },
      validations: [
        {
          expression:
            "!has(object.spec.selector) || object.spec.selector.?matchLabels[?'nodes.kok.dev/pool'] == optional.of(object.metadata.name) || (oldObject != null && oldObject.spec.?selector == object.spec.?selector)",
          messageExpression:
            "'NodePool \"' + object.metadata.name + '\": spec.selector must include matchLabels nodes.kok.dev/pool: ' + object.metadata.name + ', so that it selects only Machines labelled for this pool. Add it and label' + ' the Machines, or drop spec.selector to take the Machines whose spec.pool is ' + object.metadata.name + ' (or ask whoever installs the node-operator chart to change admissionGuardrails.requirePoolLabelForSelectors)'",
          reason: 'Forbidden',
        },
      ],
    },
  },
  {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingAdmissionPolicy',
    metadata: {
      name: 'kok-node-pool-operator-fields',
    },
    spec: {
      failurePolicy: 'Fail',
      matchConstraints: {
        resourceRules: [
          {
            apiGroups: ['nodes.kok.dev'],
            apiVersions: ['*'],
            operations: ['UPDATE'],
            resources: ['nodepools'],
          },
        ],
      },
      matchConditions: [
        {
          name: 'lacks-configure',
          expression:
            "!authorizer.group('nodes.kok.dev').resource('nodepools').name(request.name).check('configure').allowed()",
        },
      ],
      variables: [
        {
          name: 'componentNames',
          expression: 'object.spec.template.?components.orValue([]).map(c, c.name)',
        },
        {
          name: 'oldComponentNames',
          expression: 'oldObject.spec.template.?components.orValue([]).map(c, c.name)',
        },
        {
          name: 'changed',
          expression:
            "(object.spec.?selector == oldObject.spec.?selector ? [] : ['spec.selector']) + (object.spec.?drain == oldObject.spec.?drain ? [] : ['spec.drain']) + (object.spec.?disruptionPolicy == oldObject.spec.?disruptionPolicy ? [] : ['spec.disruptionPolicy']) + (object.spec.template.?files == oldObject.spec.template.?files ? [] : ['spec.template.files']) + (object.spec.template.?labels == oldObject.spec.template.?labels ? [] : ['spec.template.labels']) + (object.spec.template.?taints == oldObject.spec.template.?taints ? [] : ['spec.template.taints']) + (variables.componentNames == variables.oldComponentNames ? [] : ['which components spec.template.components lists'])",
        },
      ],
      validations: [
        {
          expression: 'variables.changed.size() == 0',
          messageExpression:
            "'NodePool \"' + request.name + '\": you may change only spec.paused, spec.rollout and the versions in' + ' spec.template.components, not ' + variables.changed.join(', ') + '. The rest decides what runs as root' + ' on the hosts: it takes the verb \"configure\" on nodepools.nodes.kok.dev (cluster-admin has it)'",
          reason: 'Forbidden',
        },
      ],
    },
  },
  {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingAdmissionPolicyBinding',
    metadata: {
      name: 'kok-node-file-paths',
    },
    spec: {
      policyName: 'kok-node-file-paths',
      validationActions: ['Deny'],
    },
  },
  {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingAdmissionPolicyBinding',
    metadata: {
      name: 'kok-node-install-paths',
    },
    spec: {
      policyName: 'kok-node-install-paths',
      validationActions: ['Deny'],
    },
  },
  {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingAdmissionPolicyBinding',
    metadata: {
      name: 'kok-node-pool-selectors',
    },
    spec: {
      policyName: 'kok-node-pool-selectors',
      validationActions: ['Deny'],
    },
  },
  {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingAdmissionPolicyBinding',
    metadata: {
      name: 'kok-node-pool-operator-fields',
    },
    spec: {
      policyName: 'kok-node-pool-operator-fields',
      validationActions: ['Deny'],
    },
  },
];

/** The chart's user roles (kok-node-viewer, -pool-operator, -catalog-admin and what aggregates into them), as rendered. */
export const chartUserRoles: readonly ChartObject[] = [
  {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: {
      name: 'kok-node-viewer',
      labels: {
        'rbac.authorization.k8s.io/aggregate-to-view': 'true',
        'nodes.kok.dev/aggregate-to-pool-operator': 'true',
        'nodes.kok.dev/aggregate-to-catalog-admin': 'true',
      },
    },
    rules: [
      {
        apiGroups: ['nodes.kok.dev'],
        resources: [
          'machines',
          'machines/status',
          'nodepools',
          'nodepools/status',
          'components',
          'components/status',
          'remediationpolicies',
          'remediationpolicies/status',
        ],
        verbs: ['get', 'list', 'watch'],
      },
    ],
  },
  {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: {
      name: 'kok-node-pool-operator',
    },
    aggregationRule: {
      clusterRoleSelectors: [
        {
          matchLabels: {
            'nodes.kok.dev/aggregate-to-pool-operator': 'true',
          },
        },
      ],
    },
    rules: [],
  },
  {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: {
      name: 'kok-node-pool-operator-nodepools',
      labels: {
        'nodes.kok.dev/aggregate-to-pool-operator': 'true',
      },
    },
    rules: [
      {
        apiGroups: ['nodes.kok.dev'],
        resources: ['nodepools'],
        verbs: ['update', 'patch'],
      },
    ],
  },
  {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: {
      name: 'kok-node-pool-operator-rollback',
      labels: {
        'nodes.kok.dev/aggregate-to-pool-operator': 'true',
      },
    },
    rules: [
      {
        apiGroups: ['apps'],
        resources: ['controllerrevisions'],
        verbs: ['list'],
      },
    ],
  },
  {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: {
      name: 'kok-node-catalog-admin',
    },
    aggregationRule: {
      clusterRoleSelectors: [
        {
          matchLabels: {
            'nodes.kok.dev/aggregate-to-catalog-admin': 'true',
          },
        },
      ],
    },
    rules: [],
  },
  {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: {
      name: 'kok-node-catalog-admin-catalog',
      labels: {
        'nodes.kok.dev/aggregate-to-catalog-admin': 'true',
      },
    },
    rules: [
      {
        apiGroups: ['nodes.kok.dev'],
        resources: ['components', 'remediationpolicies'],
        verbs: ['create', 'update', 'patch', 'delete', 'deletecollection'],
      },
    ],
  },
];

function replaceInStrings<T>(value: T, from: string, to: string): T {
  if (typeof value === 'string') return value.replaceAll(from, to) as T;
  if (Array.isArray(value)) return value.map((item: unknown) => replaceInStrings(item, from, to)) as T;
  if (value && typeof value === 'object')
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, replaceInStrings(item, from, to)]),
    ) as T;
  return value;
}

/** What the bundle installs: the policies, saying how to change them in a biz-cluster, then the roles. */
export const nodeGuardrailObjects: readonly ChartObject[] = [
  ...replaceInStrings(chartGuardrailPolicies, CHART_HOW_TO_CHANGE, BIZ_CLUSTER_HOW_TO_CHANGE),
  ...chartUserRoles,
];
