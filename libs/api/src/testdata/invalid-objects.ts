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

export const INVALID_OBJECTS: readonly InvalidCase[] = [
  // Machine
  invalid('machine pool is not a DNS label', 'Machine', (s) => (s.pool = 'Workers_1'), {
    field: 'spec.pool',
    message: 'should match',
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
    (s) => (s.network.podCIDR = '10.64.0.0/10'),
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
    'cluster caRotationGeneration is negative',
    'Cluster',
    (s) => (s.certificates = { caRotationGeneration: -1 }),
    { field: 'spec.certificates.caRotationGeneration', message: 'should be greater than or equal to 0' },
  ),

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
