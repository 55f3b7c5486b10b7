/**
 * ONE table of invalid objects, run through both the TypeScript validator
 * (validation.test.ts) and a real kube-apiserver (crds.integration.test.ts).
 * Each case breaks one rule of a valid example and names the field and the
 * message (a substring, identical in both) that must come back.
 *
 * A case with `update` is a transition: the example is created first, then
 * replaced by the mutated object, and must be refused.
 */
import type { KindName } from '../resources.ts';
import { example } from './examples.ts';
import type { KokObject } from './examples.ts';

export interface ExpectedError {
  readonly field: string;
  /** A substring of the error message. */
  readonly message: string;
}

export interface InvalidCase {
  readonly name: string;
  readonly kind: KindName;
  /** The object to create, or to update to when `update` is set. */
  readonly object: KokObject;
  /** Apply `object` as an update of the unchanged example. */
  readonly update: boolean;
  readonly expect: ExpectedError;
}

type Spec = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- test data is edited freely

function invalid(
  name: string,
  kind: KindName,
  mutate: (spec: Spec) => void,
  expect: ExpectedError,
  options: { update?: boolean } = {},
): InvalidCase {
  const object = example(kind);
  mutate(object.spec);
  return { name, kind, object, update: options.update ?? false, expect };
}

const MACHINE_VERSION_MESSAGE = 'version must look like 1.2.3 or v1.2.3';
const FILE_SOURCE_MESSAGE = 'exactly one of content, secretRef or configMapRef must be set';
const ABSOLUTE_PATH_MESSAGE = 'path must be absolute (start with /)';
const MAX_UNAVAILABLE_MESSAGE = 'maxUnavailable must be an integer of at least 1 or a percentage';
const WAVE_SHAPE_MESSAGE = 'a wave sets exactly one of count, percent or selector';
const VERSION_SKEW_MESSAGE = 'version may go up one minor at a time and never down a minor';
const DNS_LABEL_MESSAGE = 'must be a lower-case RFC 1123 label';
const COMPONENT_NAME_MESSAGE = 'a component name must be the name of a Component';
const CONTROL_CHARACTER_MESSAGE = 'must not contain control characters';
const UNIT_MESSAGE = 'unit must be a systemd unit name like kubelet.service';
const ARTIFACT_URL_MESSAGE = 'url must start with https://, http://, file:///';
const HEALTH_URL_MESSAGE = 'url must start with http://, https://, name a host';
const ETCD_URL_MESSAGE = 'url must start with https://, http://, name a host';
const LABEL_KEYS_MESSAGE = 'every key must be a label key';
const LABEL_KEY_MESSAGE = 'must be a label key';
const LABEL_VALUE_MESSAGE = 'must be a label value';
const DNS_SUBDOMAIN_NAME_MESSAGE = 'name must be a lower-case DNS subdomain';
const ADDRESS_MESSAGE = 'address must be an IP address like 10.0.0.7';
const CERT_SAN_MESSAGE = 'each certSAN must be an IP address like 10.0.0.7';
const CIDR_OVERLAP_MESSAGE = 'podCIDR must not overlap serviceCIDR';
const OWNED_FLAG_MESSAGE = (component: string) =>
  `extraArgs must not set a flag the operator sets for ${component}`;
const FLAG_NAME_MESSAGE = 'extraArgs keys must be flag names without the leading --';

export const INVALID_OBJECTS: readonly InvalidCase[] = [
  // Machine
  invalid('machine pool is not a DNS label', 'Machine', (s) => (s.pool = 'Workers_1'), {
    field: 'spec.pool',
    message: DNS_LABEL_MESSAGE,
  }),
  invalid(
    'machine component names repeat',
    'Machine',
    (s) => s.components.push({ name: 'kubelet', version: 'v1.36.4' }),
    { field: 'spec.components', message: 'component names must be unique' },
  ),
  invalid(
    'machine component version is not a version',
    'Machine',
    (s) => (s.components[1].version = 'latest'),
    {
      field: 'spec.components[1].version',
      message: MACHINE_VERSION_MESSAGE,
    },
  ),
  invalid(
    'machine file path is relative',
    'Machine',
    (s) => (s.files[0].path = 'etc/containerd/config.toml'),
    {
      field: 'spec.files[0].path',
      message: ABSOLUTE_PATH_MESSAGE,
    },
  ),
  invalid(
    'machine file path climbs with ..',
    'Machine',
    (s) => (s.files[0].path = '/etc/../root/.ssh/keys'),
    {
      field: 'spec.files[0].path',
      message: ABSOLUTE_PATH_MESSAGE,
    },
  ),
  invalid('machine file path names a directory', 'Machine', (s) => (s.files[0].path = '/etc/containerd/'), {
    field: 'spec.files[0].path',
    message: 'a file path must not end with /',
  }),
  invalid('machine file has two sources', 'Machine', (s) => (s.files[0].content = 'inline too'), {
    field: 'spec.files[0]',
    message: FILE_SOURCE_MESSAGE,
  }),
  invalid('machine file has no source', 'Machine', (s) => delete s.files[1].content, {
    field: 'spec.files[1]',
    message: FILE_SOURCE_MESSAGE,
  }),
  invalid('machine file paths repeat', 'Machine', (s) => (s.files[1].path = s.files[0].path), {
    field: 'spec.files',
    message: 'file paths must be unique',
  }),
  invalid('machine file mode is beyond 0777', 'Machine', (s) => (s.files[0].mode = 1000), {
    field: 'spec.files[0].mode',
    message: 'should be less than or equal to 511',
  }),
  invalid('machine taint effect is unknown', 'Machine', (s) => (s.taints[0].effect = 'Sometimes'), {
    field: 'spec.taints[0].effect',
    message: 'Unsupported value: "Sometimes"',
  }),
  invalid(
    'machine address changes',
    'Machine',
    (s) => (s.address = '10.20.3.18'),
    { field: 'spec.address', message: 'address is immutable once set' },
    { update: true },
  ),
  invalid(
    'machine address is removed',
    'Machine',
    (s) => delete s.address,
    { field: 'spec.address', message: 'address is immutable once set' },
    { update: true },
  ),
  invalid(
    'machine restartGeneration goes down',
    'Machine',
    (s) => (s.restartGeneration = 1),
    { field: 'spec.restartGeneration', message: 'restartGeneration may only increase' },
    { update: true },
  ),

  // NodePool
  invalid(
    'pool maxUnavailable is 0%',
    'NodePool',
    (s) => (s.rollout.strategy.rollingUpdate.maxUnavailable = '0%'),
    {
      field: 'spec.rollout.strategy.rollingUpdate.maxUnavailable',
      message: MAX_UNAVAILABLE_MESSAGE,
    },
  ),
  invalid(
    'pool maxUnavailable is 0',
    'NodePool',
    (s) => (s.rollout.strategy.rollingUpdate.maxUnavailable = 0),
    {
      field: 'spec.rollout.strategy.rollingUpdate.maxUnavailable',
      message: MAX_UNAVAILABLE_MESSAGE,
    },
  ),
  invalid(
    'pool maxUnavailable is a word',
    'NodePool',
    (s) => (s.rollout.strategy.rollingUpdate.maxUnavailable = 'half'),
    { field: 'spec.rollout.strategy.rollingUpdate.maxUnavailable', message: MAX_UNAVAILABLE_MESSAGE },
  ),
  invalid('pool wave sets count and selector', 'NodePool', (s) => (s.rollout.waves[1].selector = {}), {
    field: 'spec.rollout.waves[1]',
    message: WAVE_SHAPE_MESSAGE,
  }),
  invalid('pool wave sets nothing', 'NodePool', (s) => delete s.rollout.waves[2].count, {
    field: 'spec.rollout.waves[2]',
    message: WAVE_SHAPE_MESSAGE,
  }),
  invalid('pool wave names repeat', 'NodePool', (s) => (s.rollout.waves[2].name = 'canary'), {
    field: 'spec.rollout.waves',
    message: 'wave names must be unique',
  }),
  invalid(
    'pool wave percent is above 100',
    'NodePool',
    (s) => (s.rollout.waves = [{ name: 'all', percent: 150 }]),
    { field: 'spec.rollout.waves[0].percent', message: 'should be less than or equal to 100' },
  ),
  invalid(
    'pool has too many waves',
    'NodePool',
    (s) => (s.rollout.waves = Array.from({ length: 17 }, (_, i) => ({ name: `w${i}`, count: i + 1 }))),
    { field: 'spec.rollout.waves', message: 'Too many: 17: must have at most 16 items' },
  ),
  invalid('pool has no template', 'NodePool', (s) => delete s.template, {
    field: 'spec.template',
    message: 'Required value',
  }),
  invalid('pool strategy type is unknown', 'NodePool', (s) => (s.rollout.strategy.type = 'BlueGreen'), {
    field: 'spec.rollout.strategy.type',
    message: 'Unsupported value: "BlueGreen"',
  }),
  // Priced a drain plus a restart, never a reboot: refused now, rather than promised.
  invalid(
    'pool prices a change Reboot',
    'NodePool',
    (s) => (s.disruptionPolicy = { defaultAction: 'Reboot' }),
    { field: 'spec.disruptionPolicy.defaultAction', message: 'Unsupported value: "Reboot"' },
  ),
  // Accepted once and ignored by the operator: refused now, rather than promised.
  invalid('pool strategy type is OnDelete', 'NodePool', (s) => (s.rollout.strategy.type = 'OnDelete'), {
    field: 'spec.rollout.strategy.type',
    message: 'Unsupported value: "OnDelete"',
  }),
  invalid(
    'pool restarts for a file without naming the component',
    'NodePool',
    (s) => delete s.disruptionPolicy.files[0].component,
    {
      field: 'spec.disruptionPolicy.files[0].component',
      message: 'a Reload or Restart of a file must name the component',
    },
  ),
  invalid('pool drain timeout is beyond a week', 'NodePool', (s) => (s.drain.timeoutSeconds = 604801), {
    field: 'spec.drain.timeoutSeconds',
    message: 'should be less than or equal to 604800',
  }),
  invalid('pool maxFailed is negative', 'NodePool', (s) => (s.rollout.maxFailed = -1), {
    field: 'spec.rollout.maxFailed',
    message: 'should be greater than or equal to 0',
  }),
  invalid(
    'pool health gate on Ready',
    'NodePool',
    (s) => (s.rollout.healthGates = [{ type: 'Ready', status: 'True' }]),
    { field: 'spec.rollout.healthGates[0].type', message: 'Ready True is always required' },
  ),
  invalid(
    'pool health gate wants an Unknown condition',
    'NodePool',
    (s) => (s.rollout.healthGates = [{ type: 'KernelDeadlock', status: 'Unknown' }]),
    { field: 'spec.rollout.healthGates[0].status', message: 'Unsupported value: "Unknown"' },
  ),
  invalid(
    'pool template file path is relative',
    'NodePool',
    (s) => (s.template.files[0].path = 'kubelet.yaml'),
    {
      field: 'spec.template.files[0].path',
      message: ABSOLUTE_PATH_MESSAGE,
    },
  ),

  // Component
  invalid(
    'component health check sets exec and http',
    'Component',
    (s) => (s.healthCheck.exec = { command: ['true'] }),
    {
      field: 'spec.healthCheck',
      message: 'a health check sets exactly one of exec or http',
    },
  ),
  invalid('component systemd service has no unit', 'Component', (s) => delete s.service.unit, {
    field: 'spec.service',
    message: 'a Systemd service sets unit, a Process service sets command',
  }),
  invalid(
    'component health check period overflows a timer',
    'Component',
    (s) => (s.healthCheck.periodSeconds = 2147484),
    { field: 'spec.healthCheck.periodSeconds', message: 'should be less than or equal to 3600' },
  ),
  invalid(
    'component health check timeout overflows a timer',
    'Component',
    (s) => (s.healthCheck.timeoutSeconds = 2147484),
    { field: 'spec.healthCheck.timeoutSeconds', message: 'should be less than or equal to 3600' },
  ),
  // The agent deletes a data path when the host leaves: never the whole root.
  invalid(
    'component data path is the root',
    'Component',
    (s) => (s.dataPaths = ['/var/lib/containerd', '/']),
    {
      field: 'spec.dataPaths[1]',
      message: 'a data path must not be / (the agent deletes it when the host leaves)',
    },
  ),
  invalid('component data path climbs out', 'Component', (s) => (s.dataPaths = ['/var/lib/../../etc']), {
    field: 'spec.dataPaths[0]',
    message: ABSOLUTE_PATH_MESSAGE,
  }),
  invalid('component binary install has no path', 'Component', (s) => delete s.install.path, {
    field: 'spec.install.path',
    message: 'install.path is required for the Archive and Binary methods',
  }),
  // No agent installs host packages: the method is refused, rather than failing on every host.
  invalid('component installs a deb package', 'Component', (s) => (s.install.method = 'Deb'), {
    field: 'spec.install.method',
    message: 'Unsupported value: "Deb"',
  }),
  invalid(
    'component artifact digest is not hex',
    'Component',
    (s) => (s.versions[0].artifact.sha256 = 'md5:abc'),
    {
      field: 'spec.versions[0].artifact.sha256',
      message: 'should match',
    },
  ),
  invalid(
    'component artifact is plain http without allowInsecureHttp',
    'Component',
    (s) => (s.versions[0].artifact.url = 'http://artifacts.example.internal/kubelet'),
    {
      field: 'spec.versions[0].artifact.url',
      message: 'artifact.url is plain http://: use an https:// URL, or set artifact.allowInsecureHttp: true',
    },
  ),
  invalid(
    'component artifact size cap is above 16 GiB',
    'Component',
    (s) => (s.versions[0].artifact.maxSizeBytes = 16 * 1024 ** 3 + 1),
    {
      field: 'spec.versions[0].artifact.maxSizeBytes',
      message: 'should be less than or equal to 17179869184',
    },
  ),
  invalid(
    'component artifact size cap is zero',
    'Component',
    (s) => (s.versions[0].artifact.maxSizeBytes = 0),
    {
      field: 'spec.versions[0].artifact.maxSizeBytes',
      message: 'should be greater than or equal to 1',
    },
  ),
  invalid('component has no versions', 'Component', (s) => (s.versions = []), {
    field: 'spec.versions',
    message: 'should have at least 1 items',
  }),
  invalid('component version is malformed', 'Component', (s) => (s.versions[1].version = 'v1.36'), {
    field: 'spec.versions[1].version',
    message: MACHINE_VERSION_MESSAGE,
  }),

  // RemediationPolicy
  invalid('remediation restarts no component', 'RemediationPolicy', (s) => delete s.actions[0].component, {
    field: 'spec.actions[0]',
    message: 'RestartComponent and Reinstall name a component',
  }),
  invalid(
    'remediation duration is prose',
    'RemediationPolicy',
    (s) => (s.unhealthyConditions[0].duration = '5 minutes'),
    { field: 'spec.unhealthyConditions[0].duration', message: 'must be a duration like 90s, 5m or 1h30m' },
  ),
  invalid(
    'remediation duration is beyond a week',
    'RemediationPolicy',
    (s) => (s.unhealthyConditions[0].duration = '169h'),
    { field: 'spec.unhealthyConditions[0].duration', message: 'must be at most 168h (a week)' },
  ),
  invalid(
    'remediation action timeout is beyond a week',
    'RemediationPolicy',
    (s) => (s.actions[0].timeout = '100000h'),
    { field: 'spec.actions[0].timeout', message: 'must be at most 168h (a week)' },
  ),
  invalid('remediation maxUnhealthy is above 100%', 'RemediationPolicy', (s) => (s.maxUnhealthy = '150%'), {
    field: 'spec.maxUnhealthy',
    message: 'maxUnhealthy must be a non-negative integer or a percentage',
  }),
  invalid('remediation has no actions', 'RemediationPolicy', (s) => (s.actions = []), {
    field: 'spec.actions',
    message: 'should have at least 1 items',
  }),

  // Cluster
  invalid('cluster version lacks the v', 'Cluster', (s) => (s.version = '1.36.3'), {
    field: 'spec.version',
    message: 'version must be a Kubernetes version like v1.36.3',
  }),
  invalid('cluster etcd replicas are even', 'Cluster', (s) => (s.etcd.replicas = 4), {
    field: 'spec.etcd.replicas',
    message: 'etcd replicas must be odd',
  }),
  invalid('cluster service CIDR is not a CIDR', 'Cluster', (s) => (s.network.serviceCIDR = '10.96.0.0/33'), {
    field: 'spec.network.serviceCIDR',
    message: 'serviceCIDR must be a CIDR like 10.96.0.0/12',
  }),
  invalid(
    'cluster apiserver port is out of range',
    'Cluster',
    (s) => (s.controlPlane.apiServer.service.port = 70000),
    {
      field: 'spec.controlPlane.apiServer.service.port',
      message: 'should be less than or equal to 65535',
    },
  ),
  invalid(
    'cluster extra arg is not a string',
    'Cluster',
    (s) => (s.controlPlane.apiServer.extraArgs['max-requests-inflight'] = 3000),
    {
      field: 'spec.controlPlane.apiServer.extraArgs.max-requests-inflight',
      message: 'must be of type string',
    },
  ),
  invalid(
    'cluster service CIDR changes',
    'Cluster',
    (s) => (s.network.serviceCIDR = '10.112.0.0/12'),
    { field: 'spec.network.serviceCIDR', message: 'serviceCIDR is immutable' },
    { update: true },
  ),
  invalid(
    'cluster pod CIDR changes',
    'Cluster',
    (s) => (s.network.podCIDR = '10.0.0.0/16'),
    { field: 'spec.network.podCIDR', message: 'podCIDR is immutable' },
    { update: true },
  ),
  invalid(
    'cluster version skips a minor',
    'Cluster',
    (s) => (s.version = 'v1.38.0'),
    { field: 'spec.version', message: VERSION_SKEW_MESSAGE },
    { update: true },
  ),
  invalid(
    'cluster version goes down a minor',
    'Cluster',
    (s) => (s.version = 'v1.35.9'),
    { field: 'spec.version', message: VERSION_SKEW_MESSAGE },
    { update: true },
  ),

  invalid(
    'cluster etcd becomes external',
    'Cluster',
    (s) =>
      (s.etcd.external = {
        endpoints: ['https://etcd-0.example.internal:2379'],
        tlsSecretRef: { name: 'etcd-client' },
      }),
    { field: 'spec.etcd', message: 'etcd.external cannot be added to or removed from an existing Cluster' },
    { update: true },
  ),

  invalid(
    'cluster caRotationGeneration is negative',
    'Cluster',
    (s) => (s.certificates = { caRotationGeneration: -1 }),
    { field: 'spec.certificates.caRotationGeneration', message: 'should be greater than or equal to 0' },
  ),

  // The apiserver test names each object after its case (slug of the name), so these names end as they say.
  ...['cluster name ends with -etcd', 'cluster name ends with -front-proxy'].map((name) => {
    const object = example('Cluster');
    object.metadata.name = name.replaceAll(' ', '-').replace('--', '-');
    return {
      name,
      kind: 'Cluster' as const,
      object,
      update: false,
      expect: { field: '<nil>', message: 'a Cluster name must not end with -etcd or -front-proxy' },
    };
  }),

  // ClusterRollout
  invalid('rollout has no cluster selector', 'ClusterRollout', (s) => delete s.clusterSelector, {
    field: 'spec.clusterSelector',
    message: 'Required value',
  }),
  invalid('rollout version has no patch', 'ClusterRollout', (s) => (s.version = 'v1.36'), {
    field: 'spec.version',
    message: 'version must be a Kubernetes version like v1.36.3',
  }),
  invalid('rollout wave percent is 0', 'ClusterRollout', (s) => (s.waves[1].percent = 0), {
    field: 'spec.waves[1].percent',
    message: 'should be greater than or equal to 1',
  }),

  // Names that become a directory (/opt/kok/<name>) and a systemd unit on the host.
  ...(
    [
      [
        'machine component name climbs with ..',
        'Machine',
        (s) => (s.components[0].name = '..'),
        'spec.components[0].name',
      ],
      [
        'machine component name is a path',
        'Machine',
        (s) => (s.components[0].name = 'opt/kok'),
        'spec.components[0].name',
      ],
      [
        'machine component name starts with -',
        'Machine',
        (s) => (s.components[1].name = '-kubelet'),
        'spec.components[1].name',
      ],
      [
        'machine restartComponent climbs out',
        'Machine',
        (s) => (s.restartComponent = 'kubelet/../../etc'),
        'spec.restartComponent',
      ],
      [
        'machine reinstallComponent is upper case',
        'Machine',
        (s) => (s.reinstallComponent = 'Kubelet'),
        'spec.reinstallComponent',
      ],
      [
        'pool template component name is a unit',
        'NodePool',
        (s) => (s.template.components[1].name = 'kubelet.service'),
        'spec.template.components[1].name',
      ],
      [
        'pool disruption component name has a space',
        'NodePool',
        (s) => (s.disruptionPolicy.components[0].name = 'con tainerd'),
        'spec.disruptionPolicy.components[0].name',
      ],
      [
        'pool file restarts a component named by a path',
        'NodePool',
        (s) => (s.disruptionPolicy.files[0].component = '../kubelet'),
        'spec.disruptionPolicy.files[0].component',
      ],
      [
        'remediation restarts a component with a shell tail',
        'RemediationPolicy',
        (s) => (s.actions[0].component = 'kubelet;reboot'),
        'spec.actions[0].component',
      ],
    ] satisfies [string, KindName, (spec: Spec) => void, string][]
  ).map(([name, kind, mutate, field]) =>
    invalid(name, kind, mutate, { field, message: COMPONENT_NAME_MESSAGE }),
  ),
  invalid('pool wave name is not a DNS label', 'NodePool', (s) => (s.rollout.waves[0].name = 'Canary!'), {
    field: 'spec.rollout.waves[0].name',
    message: DNS_LABEL_MESSAGE,
  }),
  invalid('rollout wave name has upper case', 'ClusterRollout', (s) => (s.waves[0].name = 'Canary'), {
    field: 'spec.waves[0].name',
    message: DNS_LABEL_MESSAGE,
  }),

  // Host paths: absolute, no '..' segment, one line.
  invalid(
    'machine file path smuggles a line break',
    'Machine',
    (s) => (s.files[1].path = '/etc/kubernetes/kubelet.conf\nExecStart=/bin/sh'),
    { field: 'spec.files[1].path', message: CONTROL_CHARACTER_MESSAGE },
  ),
  invalid(
    'machine file path holds a NUL',
    'Machine',
    (s) => (s.files[1].path = '/etc/kubernetes/x\u0000.yaml'),
    {
      field: 'spec.files[1].path',
      message: CONTROL_CHARACTER_MESSAGE,
    },
  ),
  invalid(
    'pool template file path climbs with ..',
    'NodePool',
    (s) => (s.template.files[0].path = '/etc/kubernetes/../../root/.bashrc'),
    { field: 'spec.template.files[0].path', message: ABSOLUTE_PATH_MESSAGE },
  ),
  invalid('pool template file path ends in ..', 'NodePool', (s) => (s.template.files[0].path = '/etc/..'), {
    field: 'spec.template.files[0].path',
    message: ABSOLUTE_PATH_MESSAGE,
  }),
  invalid(
    'pool disruption file path is relative',
    'NodePool',
    (s) => (s.disruptionPolicy.files[0].path = 'kubelet-config.yaml'),
    { field: 'spec.disruptionPolicy.files[0].path', message: ABSOLUTE_PATH_MESSAGE },
  ),
  invalid(
    'component install path is relative',
    'Component',
    (s) => (s.install.path = 'usr/local/bin/kubelet'),
    {
      field: 'spec.install.path',
      message: ABSOLUTE_PATH_MESSAGE,
    },
  ),
  invalid(
    'component install path climbs with ..',
    'Component',
    (s) => (s.install.path = '/usr/local/../../etc/shadow'),
    { field: 'spec.install.path', message: ABSOLUTE_PATH_MESSAGE },
  ),
  invalid(
    'component install path holds a tab',
    'Component',
    (s) => (s.install.path = '/usr/local/bin/kube\tlet'),
    {
      field: 'spec.install.path',
      message: CONTROL_CHARACTER_MESSAGE,
    },
  ),

  // Systemd units: passed to systemctl, so a name and never a path or a flag.
  invalid(
    'component unit is a path',
    'Component',
    (s) => (s.service.unit = '../../etc/systemd/system/evil.service'),
    { field: 'spec.service.unit', message: UNIT_MESSAGE },
  ),
  invalid('component unit is a systemctl flag', 'Component', (s) => (s.service.unit = '--force.service'), {
    field: 'spec.service.unit',
    message: UNIT_MESSAGE,
  }),
  invalid('component unit has no type suffix', 'Component', (s) => (s.service.unit = 'kubelet'), {
    field: 'spec.service.unit',
    message: UNIT_MESSAGE,
  }),

  // URLs: a scheme the reader supports, a host, no spaces.
  invalid(
    'component artifact url has no host',
    'Component',
    (s) => (s.versions[0].artifact.url = 'https:///kubelet'),
    {
      field: 'spec.versions[0].artifact.url',
      message: ARTIFACT_URL_MESSAGE,
    },
  ),
  invalid(
    'component artifact url has a space',
    'Component',
    (s) => (s.versions[0].artifact.url = 'https://artifacts.example.internal/kube let'),
    { field: 'spec.versions[0].artifact.url', message: ARTIFACT_URL_MESSAGE },
  ),
  invalid(
    'component artifact url is ftp',
    'Component',
    (s) => (s.versions[1].artifact.url = 'ftp://mirror/kubelet'),
    {
      field: 'spec.versions[1].artifact.url',
      message: ARTIFACT_URL_MESSAGE,
    },
  ),
  invalid(
    'component health check url is a bare path',
    'Component',
    (s) => (s.healthCheck.http.url = '/healthz'),
    {
      field: 'spec.healthCheck.http.url',
      message: HEALTH_URL_MESSAGE,
    },
  ),
  invalid(
    'component health check url reads a file',
    'Component',
    (s) => (s.healthCheck.http.url = 'file:///etc/shadow'),
    { field: 'spec.healthCheck.http.url', message: HEALTH_URL_MESSAGE },
  ),
  invalid(
    'cluster etcd gains restoreFrom after it was created',
    'Cluster',
    (s) =>
      (s.etcd.restoreFrom = { claimName: 'etcd-snapshots', path: 'fleet/prod/prod-20261203T101500Z.db' }),
    { field: 'spec.etcd', message: 'etcd.restoreFrom cannot be added to an existing Cluster' },
    { update: true },
  ),
  invalid(
    'cluster etcd restores into an external etcd',
    'Cluster',
    (s) => {
      s.etcd.restoreFrom = { claimName: 'etcd-snapshots', path: 'prod.db' };
      s.etcd.external = {
        endpoints: ['https://etcd-0.example.internal:2379'],
        tlsSecretRef: { name: 'etcd-client' },
      };
    },
    {
      field: 'spec.etcd',
      message: 'etcd.restoreFrom restores into an etcd the operator runs, not an external one',
    },
  ),
  invalid(
    'cluster etcd restore path climbs out of its volume',
    'Cluster',
    (s) => (s.etcd.restoreFrom = { claimName: 'etcd-snapshots', path: '../operator/secrets.db' }),
    { field: 'spec.etcd.restoreFrom.path', message: 'spec.etcd.restoreFrom.path in body should match' },
  ),
  invalid(
    'cluster etcd restore path is absolute',
    'Cluster',
    (s) => (s.etcd.restoreFrom = { claimName: 'etcd-snapshots', path: '/var/lib/etcd/member/snap/db' }),
    { field: 'spec.etcd.restoreFrom.path', message: 'spec.etcd.restoreFrom.path in body should match' },
  ),
  invalid(
    'cluster external etcd endpoint has no scheme',
    'Cluster',
    (s) =>
      (s.etcd.external = {
        endpoints: ['etcd-0.example.internal:2379'],
        tlsSecretRef: { name: 'etcd-client' },
      }),
    { field: 'spec.etcd.external.endpoints[0]', message: ETCD_URL_MESSAGE },
  ),
  invalid(
    'cluster external etcd endpoint is a unix socket',
    'Cluster',
    (s) =>
      (s.etcd.external = { endpoints: ['unix:///run/etcd.sock'], tlsSecretRef: { name: 'etcd-client' } }),
    { field: 'spec.etcd.external.endpoints[0]', message: ETCD_URL_MESSAGE },
  ),

  // Labels and taints, as Kubernetes accepts them on a Node and in a selector.
  invalid('machine label key has two slashes', 'Machine', (s) => (s.labels['a/b/c'] = 'x'), {
    field: 'spec.labels',
    message: LABEL_KEYS_MESSAGE,
  }),
  invalid('machine label value has a space', 'Machine', (s) => (s.labels.tier = 'not ok'), {
    field: 'spec.labels[tier]',
    message: LABEL_VALUE_MESSAGE,
  }),
  invalid(
    'pool template label key has an upper-case prefix',
    'NodePool',
    (s) => (s.template.labels['Example.com/x'] = ''),
    {
      field: 'spec.template.labels',
      message: LABEL_KEYS_MESSAGE,
    },
  ),
  invalid(
    'pool selector label value starts with -',
    'NodePool',
    (s) => (s.selector.matchLabels['node-role.kubernetes.io/worker'] = '-bad-'),
    { field: 'spec.selector.matchLabels[node-role.kubernetes.io/worker]', message: LABEL_VALUE_MESSAGE },
  ),
  invalid(
    'pool selector expression key has a space',
    'NodePool',
    (s) => (s.selector.matchExpressions = [{ key: 'bad key', operator: 'Exists' }]),
    { field: 'spec.selector.matchExpressions[0].key', message: LABEL_KEY_MESSAGE },
  ),
  invalid(
    'pool selector expression value is too long',
    'NodePool',
    (s) => (s.selector.matchExpressions = [{ key: 'tier', operator: 'In', values: ['a'.repeat(62) + '-'] }]),
    { field: 'spec.selector.matchExpressions[0].values[0]', message: LABEL_VALUE_MESSAGE },
  ),
  invalid('pool order label key ends with /', 'NodePool', (s) => (s.rollout.order.labelKeys[0] = 'zone/'), {
    field: 'spec.rollout.order.labelKeys[0]',
    message: LABEL_KEY_MESSAGE,
  }),
  invalid('machine taint key has a space', 'Machine', (s) => (s.taints[0].key = 'dedicated key'), {
    field: 'spec.taints[0].key',
    message: LABEL_KEY_MESSAGE,
  }),
  invalid('machine taint value has a slash', 'Machine', (s) => (s.taints[0].value = 'batch/x'), {
    field: 'spec.taints[0].value',
    message: LABEL_VALUE_MESSAGE,
  }),
  invalid(
    'remediation selector label value has a !',
    'RemediationPolicy',
    (s) => (s.selector.matchLabels['nodes.kok.dev/pool'] = 'workers!'),
    { field: 'spec.selector.matchLabels[nodes.kok.dev/pool]', message: LABEL_VALUE_MESSAGE },
  ),
  invalid(
    'rollout cluster selector key has a space',
    'ClusterRollout',
    (s) => (s.clusterSelector.matchLabels = { 'tier prod': 'x' }),
    {
      field: 'spec.clusterSelector.matchLabels',
      message: LABEL_KEYS_MESSAGE,
    },
  ),

  // Secret and ConfigMap references.
  invalid(
    'machine file configMap key climbs out',
    'Machine',
    (s) => (s.files[0].configMapRef.key = '../config.toml'),
    {
      field: 'spec.files[0].configMapRef.key',
      message: 'key must be a Secret or ConfigMap key',
    },
  ),
  invalid(
    'machine file configMap namespace has upper case',
    'Machine',
    (s) => (s.files[0].configMapRef.namespace = 'Kok_System'),
    {
      field: 'spec.files[0].configMapRef.namespace',
      message: DNS_LABEL_MESSAGE,
    },
  ),
  invalid(
    'pool file configMap name has an underscore',
    'NodePool',
    (s) => (s.template.files[1].configMapRef.name = 'containerd_config'),
    {
      field: 'spec.template.files[1].configMapRef.name',
      message: DNS_SUBDOMAIN_NAME_MESSAGE,
    },
  ),
  invalid(
    'cluster external etcd Secret name has a slash',
    'Cluster',
    (s) =>
      (s.etcd.external = {
        endpoints: ['https://etcd-0.example.internal:2379'],
        tlsSecretRef: { name: 'kube-system/etcd' },
      }),
    { field: 'spec.etcd.external.tlsSecretRef.name', message: DNS_SUBDOMAIN_NAME_MESSAGE },
  ),
  invalid(
    'cluster etcd storage class has upper case',
    'Cluster',
    (s) => (s.etcd.storage.storageClassName = 'Local_NVMe'),
    {
      field: 'spec.etcd.storage.storageClassName',
      message: 'storageClassName must be a lower-case DNS subdomain',
    },
  ),

  // Addresses and certificate names.
  invalid('machine address has a space', 'Machine', (s) => (s.address = 'worker 17'), {
    field: 'spec.address',
    message: ADDRESS_MESSAGE,
  }),
  invalid('machine address is a URL', 'Machine', (s) => (s.address = 'https://10.20.3.17'), {
    field: 'spec.address',
    message: ADDRESS_MESSAGE,
  }),
  invalid('cluster certSAN has a space', 'Cluster', (s) => (s.certSANs = ['api prod.example.internal']), {
    field: 'spec.certSANs[0]',
    message: CERT_SAN_MESSAGE,
  }),
  invalid('cluster certSAN is a URL', 'Cluster', (s) => (s.certSANs = ['https://api.example.internal']), {
    field: 'spec.certSANs[0]',
    message: CERT_SAN_MESSAGE,
  }),
  invalid('cluster certSAN is an address with a zone', 'Cluster', (s) => (s.certSANs = ['fe80::1%eth0']), {
    field: 'spec.certSANs[0]',
    message: CERT_SAN_MESSAGE,
  }),
  invalid('cluster certSAN has upper case', 'Cluster', (s) => (s.certSANs = ['API.example.internal']), {
    field: 'spec.certSANs[0]',
    message: CERT_SAN_MESSAGE,
  }),
  invalid(
    'cluster certSAN wildcard is not leading',
    'Cluster',
    (s) => (s.certSANs = ['api.*.example.internal']),
    {
      field: 'spec.certSANs[0]',
      message: CERT_SAN_MESSAGE,
    },
  ),

  invalid(
    'cluster advertise address is a name',
    'Cluster',
    (s) => (s.controlPlane.apiServer.advertiseAddress = 'api.example.internal'),
    {
      field: 'spec.controlPlane.apiServer.advertiseAddress',
      message: 'advertiseAddress must be an IP address like 10.0.0.7',
    },
  ),
  invalid(
    'cluster advertise address is IPv6, its service CIDR IPv4',
    'Cluster',
    (s) => (s.controlPlane.apiServer.advertiseAddress = 'fd00::7'),
    {
      field: 'spec.controlPlane.apiServer.advertiseAddress',
      message: 'controlPlane.apiServer.advertiseAddress must be of the family of network.serviceCIDR',
    },
  ),

  // Network ranges: valid, and pods and Services apart.
  invalid(
    'cluster pod CIDR overlaps the service CIDR',
    'Cluster',
    (s) => (s.network.podCIDR = '10.96.0.0/16'),
    {
      field: 'spec.network.podCIDR',
      message: CIDR_OVERLAP_MESSAGE,
    },
  ),
  invalid(
    'cluster service CIDR lies inside the pod CIDR',
    'Cluster',
    (s) => (s.network.serviceCIDR = '10.130.0.0/16'),
    {
      field: 'spec.network.podCIDR',
      message: CIDR_OVERLAP_MESSAGE,
    },
  ),
  invalid('cluster pod CIDR has no prefix length', 'Cluster', (s) => (s.network.podCIDR = '10.244.0.0'), {
    field: 'spec.network.podCIDR',
    message: 'podCIDR must be a CIDR like 10.244.0.0/16',
  }),
  invalid(
    'cluster service CIDR has a leading zero',
    'Cluster',
    (s) => (s.network.serviceCIDR = '010.96.0.0/12'),
    {
      field: 'spec.network.serviceCIDR',
      message: 'serviceCIDR must be a CIDR like 10.96.0.0/12',
    },
  ),
  invalid('cluster dnsDomain has upper case', 'Cluster', (s) => (s.network.dnsDomain = 'Cluster.Local'), {
    field: 'spec.network.dnsDomain',
    message: 'dnsDomain must be a lower-case DNS subdomain like cluster.local',
  }),

  // Flags the operator owns; extraArgs keys are flag names.
  ...(
    [
      ['apiServer', 'kube-apiserver', 'etcd-servers', 'https://etcd.attacker.example:2379'],
      ['apiServer', 'kube-apiserver', 'service-cluster-ip-range', '10.0.0.0/8'],
      ['apiServer', 'kube-apiserver', 'tls-cert-file', '/tmp/mine.crt'],
      ['apiServer', 'kube-apiserver', 'service-account-issuer', 'https://issuer.example'],
      ['controllerManager', 'kube-controller-manager', 'cluster-signing-key-file', '/tmp/mine.key'],
      ['controllerManager', 'kube-controller-manager', 'cluster-cidr', '10.0.0.0/8'],
      ['scheduler', 'kube-scheduler', 'kubeconfig', '/tmp/admin.conf'],
      ['scheduler', 'kube-scheduler', 'secure-port', '0'],
      ['apiServer', 'kube-apiserver', 'authorization-mode', 'AlwaysAllow'],
      ['apiServer', 'kube-apiserver', 'anonymous-auth', 'false'],
      ['controllerManager', 'kube-controller-manager', 'controllers', '*,-csrsigning'],
    ] as const
  ).map(([component, binary, flag, value]) =>
    invalid(
      `cluster ${component} extraArgs override ${flag}`,
      'Cluster',
      (s) => (s.controlPlane[component] = { ...s.controlPlane[component], extraArgs: { [flag]: value } }),
      { field: `spec.controlPlane.${component}.extraArgs`, message: OWNED_FLAG_MESSAGE(binary) },
    ),
  ),
  ...['NodeRestriction', 'AlwaysPullImages, NodeRestriction', 'NodeRestriction,PodSecurity'].map((plugins) =>
    invalid(
      `cluster apiServer extraArgs disable-admission-plugins=${plugins}`,
      'Cluster',
      (s) => (s.controlPlane.apiServer.extraArgs['disable-admission-plugins'] = plugins),
      {
        field: 'spec.controlPlane.apiServer.extraArgs',
        message: 'extraArgs disable-admission-plugins must not name NodeRestriction',
      },
    ),
  ),
  ...(
    [
      ['shutdown-delay-duration', '5'],
      ['shutdown-delay-duration', '5 seconds'],
      ['request-timeout', '-1m'],
      ['shutdown-watch-termination-grace-period', '1m30'],
    ] as const
  ).map(([flag, value]) =>
    invalid(
      `cluster apiServer extraArgs ${flag}=${value} is not a duration`,
      'Cluster',
      (s) => (s.controlPlane.apiServer.extraArgs[flag] = value),
      {
        field: 'spec.controlPlane.apiServer.extraArgs',
        message: 'extraArgs shutdown-delay-duration, request-timeout and',
      },
    ),
  ),
  invalid(
    'cluster extraArgs key carries the leading --',
    'Cluster',
    (s) => (s.controlPlane.apiServer.extraArgs['--etcd-servers'] = 'https://etcd.attacker.example:2379'),
    { field: 'spec.controlPlane.apiServer.extraArgs', message: FLAG_NAME_MESSAGE },
  ),
  invalid(
    'cluster extraArgs key carries a value',
    'Cluster',
    (s) => (s.controlPlane.controllerManager.extraArgs['v=4'] = ''),
    { field: 'spec.controlPlane.controllerManager.extraArgs', message: FLAG_NAME_MESSAGE },
  ),
  invalid(
    'cluster featureGates key smuggles more gates',
    'Cluster',
    (s) => (s.controlPlane.scheduler.featureGates['A=true,B'] = true),
    { field: 'spec.controlPlane.scheduler.featureGates', message: 'featureGates keys must be gate names' },
  ),

  // Condition types a remediation waits for.
  invalid(
    'remediation condition type has a space',
    'RemediationPolicy',
    (s) => (s.unhealthyConditions[0].type = 'Not Ready'),
    { field: 'spec.unhealthyConditions[0].type', message: 'condition type must be a name like Ready' },
  ),
];

export interface AllowedUpdate {
  readonly name: string;
  readonly kind: KindName;
  readonly object: KokObject;
}

function allowed(name: string, kind: KindName, mutate: (spec: Spec) => void): AllowedUpdate {
  const object = example(kind);
  mutate(object.spec);
  return { name, kind, object };
}

/** Updates of the examples that transition rules must let through. */
export const ALLOWED_UPDATES: readonly AllowedUpdate[] = [
  allowed('cluster version goes up one minor', 'Cluster', (s) => (s.version = 'v1.37.0')),
  allowed('cluster version goes down a patch', 'Cluster', (s) => (s.version = 'v1.36.1')),
  allowed('cluster version goes up patches', 'Cluster', (s) => (s.version = 'v1.36.9')),
  allowed(
    'cluster caRotationGeneration is set',
    'Cluster',
    (s) => (s.certificates = { caRotationGeneration: 1 }),
  ),
  allowed('machine restartGeneration goes up', 'Machine', (s) => (s.restartGeneration = 3)),
  allowed('machine rebootGeneration is set', 'Machine', (s) => (s.rebootGeneration = 1)),
  allowed('pool template changes', 'NodePool', (s) => (s.template.components[1].version = 'v1.36.4')),
];
