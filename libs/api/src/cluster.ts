/**
 * Cluster (clusters.kok.dev/v1alpha1, namespaced): a biz-cluster whose control
 * plane runs as workloads in the meta-cluster.
 *
 * Over 400 lines on purpose: one kind, one file, as for every kind here: the
 * Cluster schema, its CEL rules and their TypeScript twins.
 */
import { cel } from './cel-rule.ts';
import {
  components,
  componentVersion,
  conditions,
  DNS_SUBDOMAIN_PATTERN,
  DURATION_PATTERN,
  dnsSubdomain,
  ipOrDnsName,
  kubernetesVersion,
  LastOperation,
  matchesRule,
  observedGeneration,
  url,
} from './common-schemas.ts';
import {
  APISERVER_SHUTDOWN_DELAY,
  APISERVER_SHUTDOWN_DURATION_FLAGS,
  FLAG_NAME_PATTERN,
  NAMES_REQUIRED_ADMISSION_PLUGIN,
  OPERATOR_OWNED_FLAGS,
  REQUIRED_ADMISSION_PLUGIN,
} from './control-plane-flags.ts';
import type { ControlPlaneComponentName } from './control-plane-flags.ts';
import { parseMinorVersion } from './kubernetes-version.ts';
import { cidrsOverlap, isCidr, isIpAddress } from './network-addresses.ts';
import { resourceSchema } from './resource-schema.ts';
import { RELATIVE_PATH_PATTERN } from './string-patterns.ts';
import { Annotations } from './well-known.ts';
import { AGE_COLUMN, API_VERSION_V1ALPHA1, CLUSTERS_GROUP, conditionColumn } from './resource.ts';
import type { ResourceDefinition } from './resource.ts';
import * as s from './schema-builders.ts';
import type { Static } from './schema-builders.ts';

/**
 * Version skew policy for the control plane: an upgrade moves at most one
 * minor at a time and never goes down a minor; patch moves within a minor are
 * free (that is how a bad patch release is rolled back).
 */
export function isAllowedVersionChange(from: string, to: string): boolean {
  if (from === to) return true;
  const a = parseMinorVersion(from);
  const b = parseMinorVersion(to);
  if (!a || !b) return false;
  return a.major === b.major && b.minor >= a.minor && b.minor <= a.minor + 1;
}

/** spec.paused or the pause annotation: the Cluster reconciler writes nothing, and no rollout starts it. */
export function isClusterPaused(cluster: {
  metadata?: { annotations?: Record<string, string> };
  spec: Pick<ClusterSpec, 'paused'>;
}): boolean {
  return (
    cluster.spec.paused === true || cluster.metadata?.annotations?.[Annotations.clusterPaused] !== undefined
  );
}

/** Degraded reason of a Cluster whose upgrade missed its progress deadline and was rolled back. */
export const PROGRESS_DEADLINE_EXCEEDED = 'ProgressDeadlineExceeded';

export const versionSkewRule = cel<string>({
  rule: "self == oldSelf || (self.split('.')[0] == oldSelf.split('.')[0] && int(self.split('.')[1]) >= int(oldSelf.split('.')[1]) && int(self.split('.')[1]) <= int(oldSelf.split('.')[1]) + 1)",
  message:
    'version may go up one minor at a time and never down a minor (patch changes within a minor are allowed): upgrade through each minor in turn',
  check: (self, oldSelf) => isAllowedVersionChange(oldSelf, self),
});

export { isCidr };

function cidr(field: string, example: string) {
  return s.string(`${field}: the CIDR of the range. Immutable. Default ${example}.`, {
    maxLength: 64,
    default: example,
    rules: [
      cel<string>({
        rule: 'isCIDR(self)',
        message: `${field} must be a CIDR like ${example}`,
        check: (self) => isCidr(self),
      }),
      cel<string>({
        rule: 'self == oldSelf',
        message: `${field} is immutable: pods and services of a running cluster live in it`,
        check: (self, oldSelf) => self === oldSelf,
      }),
    ],
  });
}

const resources = s.object('Compute resources of each container (core/v1 ResourceRequirements).', {
  requests: s.optional(
    s.map('Minimum resources, e.g. cpu: 500m, memory: 1Gi.', s.quantity('A quantity.'), {
      maxProperties: 16,
    }),
  ),
  limits: s.optional(s.map('Maximum resources.', s.quantity('A quantity.'), { maxProperties: 16 })),
});

const flagName = new RegExp(FLAG_NAME_PATTERN);
const FEATURE_GATE_PATTERN = '^[A-Za-z0-9]+$';
const featureGate = new RegExp(FEATURE_GATE_PATTERN);

const namesRequiredAdmissionPlugin = new RegExp(NAMES_REQUIRED_ADMISSION_PLUGIN);
const DISABLE_ADMISSION_PLUGINS = 'disable-admission-plugins';

/** enable-admission-plugins may add plugins (the operator keeps NodeRestriction in it); none may be turned off that way. */
const keepsRequiredAdmissionPlugin = cel<Record<string, string>>({
  rule: `!('${DISABLE_ADMISSION_PLUGINS}' in self) || !self['${DISABLE_ADMISSION_PLUGINS}'].matches(r'${NAMES_REQUIRED_ADMISSION_PLUGIN}')`,
  message: `extraArgs ${DISABLE_ADMISSION_PLUGINS} must not name ${REQUIRED_ADMISSION_PLUGIN}: it keeps every kubelet to its own Node and pods; remove it from the list`,
  check: (self) => {
    const disabled = self[DISABLE_ADMISSION_PLUGINS];
    return disabled === undefined || !namesRequiredAdmissionPlugin.test(disabled);
  },
});

const durationPattern = new RegExp(DURATION_PATTERN);

/** The shutdown flags the operator sizes the apiserver pods' grace period from are durations it can read. */
const shutdownFlagsAreDurations = cel<Record<string, string>>({
  rule: `[${APISERVER_SHUTDOWN_DURATION_FLAGS.map((flag) => `'${flag}'`).join(', ')}].all(f, !(f in self) || self[f].matches(r'${DURATION_PATTERN}'))`,
  message: `extraArgs ${APISERVER_SHUTDOWN_DURATION_FLAGS.slice(0, -1).join(', ')} and ${APISERVER_SHUTDOWN_DURATION_FLAGS.at(-1)} must be durations like 5s or 1m30s (0s for none): the operator sizes the apiserver pods' termination grace period from them`,
  check: (self) =>
    APISERVER_SHUTDOWN_DURATION_FLAGS.every(
      (flag) => self[flag] === undefined || durationPattern.test(self[flag]),
    ),
});

/** What the flags the operator owns decide, for the message that refuses them. */
const OWNED_FLAG_KINDS: Record<ControlPlaneComponentName, string> = {
  apiServer:
    'certificates, etcd, ports, service-account keys, address ranges, authorization, anonymous access',
  controllerManager:
    'certificates, kubeconfigs, ports, service-account keys, address ranges, which controllers run',
  scheduler: 'kubeconfigs, ports',
};

/** How the apiserver's shutdown flags size its pods' grace period, for its extraArgs description. */
const APISERVER_SHUTDOWN_NOTE = ` The operator sets shutdown-delay-duration to ${APISERVER_SHUTDOWN_DELAY} (an apiserver keeps serving that long after SIGTERM while its /readyz fails, so its Service drops it before it stops listening); extraArgs may set another, e.g. for a load balancer that notices later. The pods' terminationGracePeriodSeconds follows: shutdown-delay-duration plus the longer of request-timeout (default 1m) and shutdown-watch-termination-grace-period (default 0s), plus 5 seconds.`;

/** extraArgs: flag names the binary takes, none of those the operator owns. */
function extraArgs(name: string, component: ControlPlaneComponentName) {
  const owned: readonly string[] = OPERATOR_OWNED_FLAGS[component];
  return s.stringMap(
    `Extra ${name} flags, without the leading --, e.g. v: "2". Not the flags the operator sets itself: ${owned.join(', ')}.${component === 'apiServer' ? APISERVER_SHUTDOWN_NOTE : ''}`,
    {
      maxProperties: 64,
      valueMaxLength: 4096,
      rules: [
        cel<Record<string, string>>({
          rule: `self.all(k, k.matches(r'${FLAG_NAME_PATTERN}'))`,
          message:
            "extraArgs keys must be flag names without the leading --, e.g. v or max-requests-inflight: a-z, 0-9, '-' and '.'",
          check: (self) => Object.keys(self).every((k) => flagName.test(k)),
        }),
        cel<Record<string, string>>({
          rule: `!self.exists(k, k in [${owned.map((flag) => `'${flag}'`).join(', ')}])`,
          message: `extraArgs must not set a flag the operator sets for ${name} (${OWNED_FLAG_KINDS[component]}): change spec.network or spec.certSANs instead, or leave the flag to the operator`,
          check: (self) => !Object.keys(self).some((k) => owned.includes(k)),
        }),
        ...(component === 'apiServer' ? [keepsRequiredAdmissionPlugin, shutdownFlagsAreDurations] : []),
      ],
    },
  );
}

function controlPlaneComponent<Extra extends s.TProperties>(
  name: string,
  component: ControlPlaneComponentName,
  defaultReplicas: number,
  extra: Extra,
) {
  return s.object(
    `The ${name} Deployment.`,
    {
      replicas: s.optional(
        s.integer(`Pods of ${name}. Default ${defaultReplicas}.`, {
          minimum: 1,
          maximum: 16,
          default: defaultReplicas,
        }),
      ),
      extraArgs: s.optional(extraArgs(name, component)),
      featureGates: s.optional(
        s.map(`Feature gates of ${name}.`, s.boolean('Whether the gate is on.'), {
          maxProperties: 128,
          rules: [
            cel<Record<string, boolean>>({
              rule: `self.all(k, k.matches(r'${FEATURE_GATE_PATTERN}'))`,
              message:
                'featureGates keys must be gate names like SchedulerQueueingHints: letters and digits only',
              check: (self) => Object.keys(self).every((k) => featureGate.test(k)),
            }),
          ],
        }),
      ),
      resources: s.optional(resources),
      ...extra,
    },
    { default: {} },
  );
}

export const ClusterSpec = s.object(
  'The desired biz-cluster control plane.',
  {
    version: kubernetesVersion(
      'Kubernetes version of the control plane, e.g. v1.36.3. A change to a newer minor waits, before anything is written at it, while a kubelet of the biz-cluster is outside the skew policy of it (more than 3 minor versions older, or newer) or while its Nodes cannot be read by an operator that reached that biz-cluster before: the Cluster is Degraded with reason KubeletVersionSkew (naming the Nodes) or KubeletVersionsUnknown, the control plane stays at its version, and the operator looks again every 30 seconds. A patch change is not checked.',
      [versionSkewRule],
    ),
    etcd: s.optional(
      s.object(
        'The etcd cluster that stores the biz-cluster state: run by the operator as a StatefulSet, or an etcd run elsewhere (external). Which of the two is fixed when the Cluster is created.',
        {
          replicas: s.optional(
            s.integer('Members of the etcd cluster: 1, 3, 5 or 7. Default 3. Unused with external.', {
              minimum: 1,
              maximum: 7,
              default: 3,
              rules: [
                cel<number>({
                  rule: 'self % 2 == 1',
                  message: 'etcd replicas must be odd (1, 3, 5 or 7): an even member adds no fault tolerance',
                  check: (self) => self % 2 === 1,
                }),
              ],
            }),
          ),
          version: s.optional(
            componentVersion(
              "etcd version, e.g. 3.6.16. Default: the version the operator pairs with spec.version's minor (3.6.16 for 1.34, 1.35 and 1.36); for another minor it must be set, or the Cluster is Degraded with reason EtcdVersionUnknown. Unused with external.",
            ),
          ),
          storage: s.optional(
            s.object(
              'The volume of each member. Unused with external.',
              {
                size: s.optional(s.quantity('Size of the volume. Default 8Gi.', { default: '8Gi' })),
                storageClassName: s.optional(
                  dnsSubdomain('StorageClass of the volume. Default: the default class.', 'storageClassName'),
                ),
              },
              { default: {} },
            ),
          ),
          defragmentation: s.optional(
            s.object(
              "When the operator defragments a member (etcd's /v3/maintenance/defragment), giving the space of deleted and compacted revisions back to the filesystem. The operator reads each member's database size at least once a minute; a member is defragmented when its free space (its database file minus the part in use) is at least freeSpaceBytes and at least freeSpacePercent of its file. One member at a time, followers before the leader (a defragmenting member does not answer for a few seconds up to minutes for a large database), never while the membership changes or a member is unhealthy, and each member at most once in 10 minutes. Each defragmentation is an Event (EtcdDefragmented, or EtcdDefragmentationFailed) on the Cluster. Unused with external.",
              {
                enabled: s.optional(s.boolean('Defragment members at all. Default true.', { default: true })),
                freeSpacePercent: s.optional(
                  s.integer("Least free share of a member's database file, in percent. Default 50.", {
                    minimum: 1,
                    maximum: 100,
                    default: 50,
                  }),
                ),
                freeSpaceBytes: s.optional(
                  s.integer(
                    "Least free space of a member's database file, in bytes: smaller files are not worth a pause. Default 104857600 (100 MiB).",
                    { minimum: 0, format: 'int64', default: 104857600 },
                  ),
                ),
              },
            ),
          ),
          backup: s.optional(
            s.object(
              "Scheduled snapshots of etcd, taken by the operator through etcd's maintenance API from a healthy voting follower (the leader only when no follower answers) and written, whole and checked against the checksum etcd appends, to <snapshot directory>/<namespace>/<cluster>/<cluster>-<UTC time>.db, where the snapshot directory is the operator's --etcd-snapshot-dir (a volume the operator's pod mounts). Without that flag no snapshot is taken and EtcdBackup is False with reason NoSnapshotDirectory. status.etcd.lastSnapshot records the last one; EtcdBackup says whether the last attempt worked; each snapshot is an Event (EtcdSnapshotTaken, or EtcdSnapshotFailed, tried again after 5 minutes, or after the interval if that is shorter). The annotation clusters.kok.dev/etcd-snapshot-request asks for one now, with or without a schedule. Unused with external.",
              {
                intervalMinutes: s.integer(
                  'Minutes between snapshots, counted from the last one status.etcd.lastSnapshot records: a restarted operator keeps the schedule, and the first snapshot is taken as soon as etcd answers.',
                  { minimum: 1, maximum: 43200 },
                ),
                keep: s.optional(
                  s.integer(
                    "How many of the Cluster's snapshot files to keep: after each snapshot the oldest beyond this number are deleted. Default 7.",
                    { minimum: 1, maximum: 1000, default: 7 },
                  ),
                ),
              },
            ),
          ),
          restoreFrom: s.optional(
            s.object(
              "Start this Cluster's etcd from a snapshot instead of empty: one the operator took (spec.etcd.backup) or one taken through etcd's snapshot API, e.g. etcdctl snapshot save (a copy of a member's db file carries no integrity hash and is refused). Before the etcd StatefulSet is first made, the operator creates each member's volume (data-<cluster>-etcd-N) and runs one pod per member, <cluster>-etcd-restore-N, with the etcd image's etcdutl snapshot restore, which refuses a snapshot whose integrity hash does not match and writes the member's data; the StatefulSet is made once every member's volume holds it, and each restored member is an Event (EtcdMemberRestored). While it runs, Progressing is True with reason RestoringEtcd; a restore pod that fails makes the Cluster Degraded with reason EtcdRestoreFailed and the pod's last log lines (deleting the pod tries again; changing this field starts over), and a claim that does not exist with reason EtcdRestoreSourceNotFound (looked for again every 15 seconds). Read only until etcd first has quorum (status.etcd.initializedTime), and it cannot be added to an existing Cluster. A snapshot holds no Secrets: for existing kubeconfigs, kubelets and service-account tokens to keep working, put the Cluster's Secrets back before creating it (kubectl kok cluster restore). Not with external.",
              {
                claimName: dnsSubdomain(
                  "A PersistentVolumeClaim in the Cluster namespace whose volume holds the snapshot; each member's restore pod mounts it read-only, so with members on several nodes it needs an access mode that allows that (ReadOnlyMany or ReadWriteMany).",
                  'claimName',
                ),
                path: s.string(
                  "The snapshot file's path inside that volume, relative, e.g. prod/web/web-20261203T101500Z.db (under the operator's snapshot directory its files are <namespace>/<cluster>/<file>).",
                  { minLength: 1, maxLength: 1024, pattern: RELATIVE_PATH_PATTERN },
                ),
              },
            ),
          ),
          external: s.optional(
            s.object(
              'An etcd run elsewhere: the operator runs no etcd, makes no etcd CA or certificates, and kube-apiserver stores the biz-cluster in this etcd (its --etcd-servers). Deleting the Cluster leaves this etcd, its data and the Secret alone.',
              {
                endpoints: s.list(
                  'Client URLs of the members, e.g. https://etcd-0.example:2379; every apiserver pod must reach them.',
                  url('A client URL.', ['https', 'http'], 'https://etcd-0.example.internal:2379'),
                  { maxItems: 7, minItems: 1 },
                ),
                tlsSecretRef: s.object(
                  "Secret in the Cluster namespace with ca.crt (the CA of etcd's serving certificate), tls.crt and tls.key (a client certificate etcd accepts, and its key). kube-apiserver mounts it; a change of its content rolls the apiservers (the operator reads it at least every 5 minutes). Missing, or without a valid certificate and key: Degraded with reason ExternalEtcdSecretNotFound or ExternalEtcdSecretInvalid.",
                  {
                    name: dnsSubdomain('Name of the Secret.', 'name'),
                  },
                ),
              },
            ),
          ),
        },
        {
          default: {},
          rules: [
            cel<{ external?: unknown }>({
              rule: 'has(self.external) == has(oldSelf.external)',
              message:
                'etcd.external cannot be added to or removed from an existing Cluster: the biz-cluster state lives in the etcd it was created with; create a new Cluster to use another kind of etcd',
              check: (self, oldSelf) => (self.external === undefined) === (oldSelf.external === undefined),
            }),
            cel<{ restoreFrom?: unknown }>({
              rule: '!has(self.restoreFrom) || has(oldSelf.restoreFrom)',
              message:
                'etcd.restoreFrom cannot be added to an existing Cluster: a snapshot is restored only into a new Cluster, before its etcd first starts',
              check: (self, oldSelf) => self.restoreFrom === undefined || oldSelf.restoreFrom !== undefined,
            }),
            cel<{ restoreFrom?: unknown; external?: unknown }>({
              rule: '!has(self.restoreFrom) || !has(self.external)',
              message: 'etcd.restoreFrom restores into an etcd the operator runs, not an external one',
              check: (self) => self.restoreFrom === undefined || self.external === undefined,
            }),
          ],
        },
      ),
    ),
    controlPlane: s.optional(
      s.object(
        'The master components, each a Deployment in the meta-cluster.',
        {
          apiServer: s.optional(
            controlPlaneComponent('kube-apiserver', 'apiServer', 3, {
              service: s.optional(
                s.object(
                  'The Service that exposes the apiserver.',
                  {
                    type: s.optional(
                      s.stringEnum(
                        'Service type. Default ClusterIP.',
                        ['ClusterIP', 'NodePort', 'LoadBalancer'],
                        {
                          default: 'ClusterIP',
                        },
                      ),
                    ),
                    port: s.optional(
                      s.integer('Service port. Default 6443.', { minimum: 1, maximum: 65535, default: 6443 }),
                    ),
                  },
                  { default: {} },
                ),
              ),
              advertiseAddress: s.optional(
                s.string(
                  "An IP address where the biz-cluster's nodes and pods reach the apiserver on port 6443 (a load balancer in front of the apiserver pods, or an address the meta-cluster routes to them). The biz-cluster's `kubernetes` Service points at it, it is in the serving certificate, and kube-proxy (spec.addons.kubeProxy) dials it; the operator does not route it. Default: each apiserver pod's own IP, which only nodes that can route meta-cluster pod IPs reach.",
                  {
                    maxLength: 45,
                    rules: [
                      cel<string>({
                        rule: 'isIP(self)',
                        message: 'advertiseAddress must be an IP address like 10.0.0.7 or fd00::7',
                        check: (self) => isIpAddress(self),
                      }),
                    ],
                  },
                ),
              ),
            }),
          ),
          controllerManager: s.optional(
            controlPlaneComponent('kube-controller-manager', 'controllerManager', 2, {}),
          ),
          scheduler: s.optional(controlPlaneComponent('kube-scheduler', 'scheduler', 2, {})),
        },
        { default: {} },
      ),
    ),
    certSANs: s.optional(
      s.list(
        'Extra names and addresses in the apiserver serving certificate.',
        ipOrDnsName('A DNS name or IP address.', 'each certSAN', { wildcard: true }),
        { maxItems: 32, listType: 'set' },
      ),
    ),
    network: s.optional(
      s.object(
        'Address ranges and DNS of the biz-cluster. Immutable: a running cluster cannot move.',
        {
          serviceCIDR: s.optional(cidr('serviceCIDR', '10.96.0.0/12')),
          podCIDR: s.optional(cidr('podCIDR', '10.244.0.0/16')),
          dnsDomain: s.optional(
            s.string('Cluster DNS domain. Immutable. Default cluster.local.', {
              maxLength: 253,
              default: 'cluster.local',
              rules: [
                matchesRule(
                  DNS_SUBDOMAIN_PATTERN,
                  "dnsDomain must be a lower-case DNS subdomain like cluster.local: dot-separated labels of a-z, 0-9 and '-'",
                ),
                cel<string>({
                  rule: 'self == oldSelf',
                  message: 'dnsDomain is immutable',
                  check: (self, oldSelf) => self === oldSelf,
                }),
              ],
            }),
          ),
        },
        {
          default: {},
          rules: [
            cel<{ serviceCIDR?: string; podCIDR?: string }>({
              // Checked only for two well-formed CIDRs: the rules on each already name what is wrong with the others.
              rule: '!has(self.serviceCIDR) || !has(self.podCIDR) || !isCIDR(self.serviceCIDR) || !isCIDR(self.podCIDR) || !(cidr(self.serviceCIDR).containsCIDR(cidr(self.podCIDR)) || cidr(self.podCIDR).containsCIDR(cidr(self.serviceCIDR)))',
              message:
                'podCIDR must not overlap serviceCIDR: a pod and a Service would share addresses; pick disjoint ranges such as 10.244.0.0/16 and 10.96.0.0/12',
              fieldPath: '.podCIDR',
              check: (self) =>
                self.serviceCIDR === undefined ||
                self.podCIDR === undefined ||
                !isCidr(self.serviceCIDR) ||
                !isCidr(self.podCIDR) ||
                !cidrsOverlap(self.serviceCIDR, self.podCIDR),
            }),
          ],
        },
      ),
    ),
    nodePools: s.optional(
      s.object(
        "The versions the biz-cluster's NodePools run, moved with spec.version: once the control plane is Available at spec.version, the operator sets, in the template of every NodePool of the biz-cluster, the version of each component named here that the template already has (it never adds a component), and the node-operator rolls each pool out in its own waves. Needs the node-operator (spec.nodeOperator.enabled). status.nodePools and the condition NodePoolsUpToDate report the pools' progress while this field is set.",
        {
          components: components(
            'Components by name (e.g. kubelet) and the version every NodePool whose template has them runs.',
          ),
        },
      ),
    ),
    addons: s.optional(
      s.object(
        "What the operator deploys into the biz-cluster's kube-system once its control plane is Available at spec.version, and upgrades after the control plane: CoreDNS (Deployment and Service kube-dns at the tenth address of spec.network.serviceCIDR, the kubelets' clusterDNS) and kube-proxy (a DaemonSet on every node, iptables mode). Status in status.addons and the condition AddonsReady.",
        {
          coreDNS: s.optional(
            s.object(
              'CoreDNS at the version paired with spec.version (two replicas).',
              {
                enabled: s.optional(
                  s.boolean('Deploy it. Default true; false removes the objects the operator made for it.', {
                    default: true,
                  }),
                ),
              },
              { default: {} },
            ),
          ),
          kubeProxy: s.optional(
            s.object(
              'kube-proxy at spec.version. It dials the apiserver at spec.controlPlane.apiServer.advertiseAddress: without one it is not deployed, and AddonsReady says so.',
              {
                enabled: s.optional(
                  s.boolean('Deploy it. Default true; false removes the objects the operator made for it.', {
                    default: true,
                  }),
                ),
              },
              { default: {} },
            ),
          ),
        },
        { default: {} },
      ),
    ),
    nodeOperator: s.optional(
      s.object(
        'The node-operator the kube-on-kube operator runs for this cluster.',
        {
          enabled: s.optional(s.boolean('Run it. Default true.', { default: true })),
          version: s.optional(componentVersion('Its version. Default: the kube-on-kube operator version.')),
        },
        { default: {} },
      ),
    ),
    certificates: s.optional(
      s.object('Certificate lifecycle of the cluster.', {
        caRotationGeneration: s.optional(
          s.integer(
            'Increase to rotate every CA of the cluster once, in phases: trust old and new, reissue every leaf from the new CA, drop the old CA. Never decreases.',
            {
              minimum: 0,
              format: 'int64',
              rules: [
                cel<number>({
                  rule: 'self >= oldSelf',
                  message: 'caRotationGeneration may only increase: bump it to ask for another CA rotation',
                  check: (self, oldSelf) => self >= oldSelf,
                }),
              ],
            },
          ),
        ),
      }),
    ),
    paused: s.optional(s.boolean('Stop reconciling this cluster. Default false.', { default: false })),
  },
  {
    rules: [
      cel<{
        controlPlane?: { apiServer?: { advertiseAddress?: string } };
        network?: { serviceCIDR?: string };
      }>({
        // The apiserver refuses to start with an advertise address of the other family than its service range.
        rule: '!has(self.controlPlane) || !has(self.controlPlane.apiServer) || !has(self.controlPlane.apiServer.advertiseAddress) || !isIP(self.controlPlane.apiServer.advertiseAddress) || ip(self.controlPlane.apiServer.advertiseAddress).family() == ((has(self.network) && has(self.network.serviceCIDR) && isCIDR(self.network.serviceCIDR)) ? cidr(self.network.serviceCIDR).ip().family() : 4)',
        message:
          'controlPlane.apiServer.advertiseAddress must be of the family of network.serviceCIDR (both IPv4 or both IPv6): the apiserver refuses to start otherwise',
        fieldPath: '.controlPlane.apiServer.advertiseAddress',
        check: (self) => {
          const address = self.controlPlane?.apiServer?.advertiseAddress;
          if (address === undefined || !isIpAddress(address)) return true;
          const serviceCIDR = self.network?.serviceCIDR;
          const range =
            serviceCIDR !== undefined && isCidr(serviceCIDR)
              ? (serviceCIDR.split('/')[0] ?? '')
              : '10.96.0.0';
          return address.includes(':') === range.includes(':');
        },
      }),
    ],
  },
);
export type ClusterSpec = Static<typeof ClusterSpec>;

/** The phases of a CA rotation, in order. */
export const CA_ROTATION_PHASES = ['TrustingNewCA', 'ReissuingLeaves', 'RemovingOldCA', 'Completed'] as const;

export const CLUSTER_PHASES = [
  'Provisioning',
  'Ready',
  'Upgrading',
  'Degraded',
  'Deleting',
  'Paused',
] as const;

const componentStatus = (name: string) =>
  s.optional(
    s.object(`${name} as observed.`, {
      replicas: s.optional(s.integer('Desired pods.', { minimum: 0 })),
      ready: s.optional(s.integer('Ready pods.', { minimum: 0 })),
      version: s.optional(s.string('Version every pod runs; empty while mixed.', { maxLength: 64 })),
    }),
  );

/** A SHA-256 digest in lowercase hex, as `sha256sum` prints it. */
const sha256Hex = (of: string) =>
  s.string(`SHA-256 of the DER of ${of}, lowercase hex.`, { maxLength: 64, pattern: '^[0-9a-f]{64}$' });

export const ClusterStatus = s.object('What the kube-on-kube operator observed.', {
  observedGeneration: s.optional(observedGeneration()),
  phase: s.optional(
    s.stringEnum('A one-word summary for people; controllers read conditions.', CLUSTER_PHASES),
  ),
  version: s.optional(
    s.object('Control plane versions (HyperShift shape).', {
      current: s.optional(s.string('The version every component runs.', { maxLength: 64 })),
      desired: s.optional(s.string('The version being rolled out.', { maxLength: 64 })),
      history: s.optional(
        s.list(
          'Versions rolled out, newest first.',
          s.object('One rollout.', {
            version: s.string('The version.', { maxLength: 64 }),
            state: s.stringEnum('Completed once every component ran it; Partial otherwise.', [
              'Completed',
              'Partial',
            ]),
            startedTime: s.timestamp('When the rollout started.'),
            completionTime: s.optional(s.timestamp('When it completed.')),
          }),
          { maxItems: 32 },
        ),
      ),
    }),
  ),
  endpoint: s.optional(s.string('URL of the biz-cluster apiserver.', { maxLength: 2048 })),
  kubeconfigSecretRef: s.optional(
    s.object('Secret in the Cluster namespace holding the admin kubeconfig.', {
      name: s.string('Name of the Secret.', { maxLength: 253 }),
      key: s.string('Key of the kubeconfig in the Secret.', { maxLength: 253 }),
    }),
  ),
  components: s.optional(
    s.object('Each control-plane component.', {
      etcd: componentStatus('etcd'),
      apiServer: componentStatus('kube-apiserver'),
      controllerManager: componentStatus('kube-controller-manager'),
      scheduler: componentStatus('kube-scheduler'),
      nodeOperator: componentStatus('node-operator'),
    }),
  ),
  addons: s.optional(
    s.object(
      'The add-ons in the biz-cluster as last read (spec.addons): desired and ready pods of each workload found (none when it is not there), and the version once it runs what the operator renders. Read every 10 seconds while they roll out, then every minute.',
      {
        coreDNS: componentStatus('The coredns Deployment'),
        kubeProxy: componentStatus('The kube-proxy DaemonSet'),
      },
    ),
  ),
  nodePools: s.optional(
    s.object(
      "The biz-cluster's NodePools against spec.nodePools, as last read (left as it was when spec.nodePools is removed; the condition NodePoolsUpToDate is removed then). The condition NodePoolsUpToDate is True once every pool is up to date, False with the pools still moving and why (waiting for the control plane, the node-operator not yet at the new template, machines left to update, paused, failed). Once True for the Cluster's generation, the pools are not read again until the spec changes; while pools move they are read every 15 seconds.",
      {
        pools: s.integer('NodePools in the biz-cluster.', { minimum: 0 }),
        upToDate: s.integer(
          'NodePools whose template has the versions of spec.nodePools, whose node-operator has seen that template, and whose every machine runs it (status.currentRevision is status.updateRevision, updatedMachines is machines).',
          { minimum: 0 },
        ),
      },
    ),
  ),
  certificates: s.optional(
    s.object('Certificates of the cluster.', {
      notAfter: s.optional(s.timestamp('When the first certificate (leaf or CA) expires.')),
      caNotAfter: s.optional(s.timestamp('When the first CA expires.')),
      renewalTime: s.optional(s.timestamp('When the next leaf certificate is due for renewal.')),
      caRotation: s.optional(
        s.object('The last CA rotation asked for by spec.certificates.caRotationGeneration.', {
          generation: s.integer('The caRotationGeneration being rotated to, or last rotated to.', {
            minimum: 0,
            format: 'int64',
          }),
          phase: s.stringEnum(
            'TrustingNewCA: bundles hold old and new CA; ReissuingLeaves: leaves are signed by the new CA; RemovingOldCA: bundles hold the new CA only; Completed once every consumer runs with that.',
            CA_ROTATION_PHASES,
          ),
          lastTransitionTime: s.optional(s.timestamp('When the phase last changed.')),
        }),
      ),
    }),
  ),
  pki: s.optional(
    s.object(
      'Fingerprints of the long-lived keys of the cluster, recorded once their Secrets exist and kept current (a CA rotation updates them). While any is recorded the operator never makes a new CA or service-account key for a missing Secret: it reports Degraded with reason PKIMissing until the Secret is restored or the annotation clusters.kok.dev/regenerate-pki is set.',
      {
        caSHA256: s.optional(sha256Hex('the signing certificate (tls.crt) in Secret <cluster>-ca')),
        frontProxyCASHA256: s.optional(
          sha256Hex('the signing certificate (tls.crt) in Secret <cluster>-front-proxy-ca'),
        ),
        etcdCASHA256: s.optional(sha256Hex('the signing certificate (tls.crt) in Secret <cluster>-etcd-ca')),
        serviceAccountKeySHA256: s.optional(
          sha256Hex('the service-account public key (sa.pub) as SubjectPublicKeyInfo in Secret <cluster>-sa'),
        ),
      },
    ),
  ),
  etcd: s.optional(
    s.object('The etcd the operator runs for the cluster.', {
      initializedTime: s.optional(
        s.timestamp(
          'When etcd first had quorum. Once set, the operator does not create the etcd StatefulSet again while none of its volumes (data-<cluster>-etcd-N) exists: it reports Degraded with reason EtcdDataLost instead of starting an empty etcd.',
        ),
      ),
      members: s.optional(
        s.mapList(
          'The members as etcd lists them, read through its member API when the operator looks at the Cluster (a read stands for 10 seconds); absent while no member answers.',
          s.object('One member.', {
            name: s.string('The member: its pod name, <cluster>-etcd-<ordinal>.', { maxLength: 253 }),
            id: s.string('The member id etcd assigned, in decimal.', { maxLength: 20 }),
            isLearner: s.boolean('A learner: it receives the log but does not vote until promoted.'),
            healthy: s.boolean('The member answered for itself, under this id, without errors.'),
          }),
          ['name'],
          { maxItems: 16 },
        ),
      ),
      leader: s.optional(s.string('The name of the member the others follow.', { maxLength: 253 })),
      dbSizeBytes: s.optional(
        s.integer('The largest database file of the members that answered.', { minimum: 0, format: 'int64' }),
      ),
      lastSnapshot: s.optional(
        s.object('The last snapshot the operator took of this etcd (spec.etcd.backup).', {
          file: s.string(
            "Its path under the operator's snapshot directory: <namespace>/<cluster>/<cluster>-<UTC time>.db.",
            { maxLength: 1024 },
          ),
          time: s.timestamp('When it was taken.'),
          member: s.string('The member that gave it.', { maxLength: 253 }),
          revision: s.integer(
            'The revision the member had reached when the snapshot began: it holds at least that.',
            {
              minimum: 0,
              format: 'int64',
            },
          ),
          sizeBytes: s.integer('Size of the file.', { minimum: 0, format: 'int64' }),
          sha256: s.string('SHA-256 of the file, lowercase hex.', {
            maxLength: 64,
            pattern: '^[0-9a-f]{64}$',
          }),
          request: s.optional(
            s.string(
              'The value of the clusters.kok.dev/etcd-snapshot-request annotation it answered, if any.',
              {
                maxLength: 253,
              },
            ),
          ),
        }),
      ),
      alarms: s.optional(
        s.list(
          'Alarms raised in etcd (NOSPACE: the database reached its quota and etcd refuses writes; CORRUPT).',
          s.object('One alarm.', {
            member: s.string('The member that raised it.', { maxLength: 253 }),
            alarm: s.string('NOSPACE or CORRUPT.', { maxLength: 32 }),
          }),
          { maxItems: 32 },
        ),
      ),
    }),
  ),
  gates: s.optional(
    s.mapList(
      'How long each bring-up or upgrade gate took in the last operation.',
      s.object('One gate.', {
        name: s.string('Gate name, e.g. EtcdAvailable.', { maxLength: 64 }),
        startedAt: s.timestamp('When the gate started waiting.'),
        completedAt: s.optional(s.timestamp('When the gate passed.')),
        durationMilliseconds: s.optional(s.integer('Time the gate took.', { minimum: 0, format: 'int64' })),
      }),
      ['name'],
      { maxItems: 16 },
    ),
  ),
  conditions: s.optional(
    conditions(
      'EtcdAvailable, APIServerAvailable, ControllerManagerAvailable, SchedulerAvailable, Available, Progressing, Degraded, CertificatesRotating, DeletionBlocked, EtcdMembership (False while a change of etcd membership waits, with the reason it waits), EtcdAlarm (True while etcd has an alarm raised: reason NOSPACE or CORRUPT), EtcdBackup (while spec.etcd.backup is set or a snapshot was requested: whether the last snapshot attempt worked).',
    ),
  ),
  lastOperation: s.optional(LastOperation),
});
export type ClusterStatus = Static<typeof ClusterStatus>;

/**
 * Endings a new Cluster's name may not have. The operator names a Cluster's
 * objects `<cluster><suffix>`, and these endings are what one suffix has more
 * than another: Cluster `x-etcd`'s CA Secret would be `x-etcd-ca`, the etcd CA
 * Secret of Cluster `x`. With them refused, two Clusters of a namespace never
 * share an object name (the kube-on-kube operator's tests derive this list
 * from its names and fail when it falls short).
 */
export const CLUSTER_NAME_FORBIDDEN_ENDINGS: readonly string[] = ['-etcd', '-front-proxy'];

/** The ending of CLUSTER_NAME_FORBIDDEN_ENDINGS that `name` has, if any. */
export const forbiddenClusterNameEnding = (name: string): string | undefined =>
  CLUSTER_NAME_FORBIDDEN_ENDINGS.find((ending) => name.endsWith(ending));

/** Checked on create only: a Cluster made before the rule can still be updated and deleted. */
export const clusterNameRule = cel<{ metadata?: { name?: string } }>({
  rule: `oldSelf.hasValue() || !(${CLUSTER_NAME_FORBIDDEN_ENDINGS.map((e) => `self.metadata.name.endsWith('${e}')`).join(' || ')})`,
  optionalOldSelf: true,
  message: `a Cluster name must not end with ${CLUSTER_NAME_FORBIDDEN_ENDINGS.join(' or ')}: its objects would share names with those of the Cluster named without that ending (Secret x-etcd-ca is both the CA of Cluster x-etcd and the etcd CA of Cluster x)`,
  check: (self, oldSelf) =>
    oldSelf !== undefined || forbiddenClusterNameEnding(self.metadata?.name ?? '') === undefined,
});

export const ClusterSchema = resourceSchema(
  'Cluster is a biz-cluster whose etcd and master components run as workloads in this meta-cluster.',
  ClusterSpec,
  ClusterStatus,
  [clusterNameRule],
);
export type Cluster = Static<typeof ClusterSchema>;

export const ClusterResource: ResourceDefinition<typeof ClusterSchema> = {
  group: CLUSTERS_GROUP,
  version: API_VERSION_V1ALPHA1,
  kind: 'Cluster',
  plural: 'clusters',
  singular: 'cluster',
  shortNames: ['kcl'],
  scope: 'Namespaced',
  schema: ClusterSchema,
  printerColumns: [
    {
      name: 'Version',
      type: 'string',
      jsonPath: '.spec.version',
      description: 'Desired Kubernetes version.',
    },
    {
      name: 'Current',
      type: 'string',
      jsonPath: '.status.version.current',
      description: 'Version every component runs.',
      priority: 1,
    },
    {
      name: 'Phase',
      type: 'string',
      jsonPath: '.status.phase',
      description: 'Summary of the cluster state.',
    },
    { name: 'Endpoint', type: 'string', jsonPath: '.status.endpoint', description: 'apiserver URL.' },
    conditionColumn('Available', 'Available', 'Whether the control plane serves.'),
    AGE_COLUMN,
  ],
};
