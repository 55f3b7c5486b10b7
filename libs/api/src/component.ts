/**
 * Component (nodes.kok.dev/v1alpha1, cluster-scoped): the catalog entry that
 * tells the node agent how to install, run, check and observe one piece of
 * host software, Kubernetes or not.
 */
import { DEFAULT_ARTIFACT_MAX_SIZE_BYTES, MAX_ARTIFACT_MAX_SIZE_BYTES } from './artifact-limits.ts';
import { cel } from './cel-rule.ts';
import {
  absolutePathRule,
  componentVersion,
  conditions,
  hostPath,
  noControlCharactersRule,
  observedGeneration,
  systemdUnit,
  url,
} from './common-schemas.ts';
import { resourceSchema } from './resource-schema.ts';
import { AGE_COLUMN, API_VERSION_V1ALPHA1, NODES_GROUP } from './resource.ts';
import type { ResourceDefinition } from './resource.ts';
import * as s from './schema-builders.ts';
import type { Static } from './schema-builders.ts';

function command(description: string) {
  return s.list(description, s.string('One argument.', { maxLength: 4096 }), { maxItems: 64, minItems: 1 });
}

export const ComponentArtifact = s.object(
  'Where the agent downloads this version from.',
  {
    url: url(
      'https://, http:// or file:// URL of the artifact. A redirect is not followed. http:// needs allowInsecureHttp; file:// is read from the host itself.',
      ['https', 'http', 'file'],
      'https://artifacts.example.internal/kubelet',
    ),
    sha256: s.string('Hex SHA-256 of the artifact; the agent refuses anything else.', {
      maxLength: 64,
      pattern: '^[a-f0-9]{64}$',
    }),
    maxSizeBytes: s.optional(
      s.integer(
        'The most bytes the agent downloads: a larger artifact is refused, and the download stops as soon as more arrive. 1 to 17179869184 (16 GiB). Default 536870912 (512 MiB).',
        {
          minimum: 1,
          maximum: MAX_ARTIFACT_MAX_SIZE_BYTES,
          format: 'int64',
          default: DEFAULT_ARTIFACT_MAX_SIZE_BYTES,
        },
      ),
    ),
    allowInsecureHttp: s.optional(
      s.boolean(
        'Accept a plain http:// url. The sha256 still decides what is installed, but anyone on the path can read the artifact or withhold it. Default false.',
      ),
    ),
  },
  {
    rules: [
      cel<{ url: string; allowInsecureHttp?: boolean }>({
        rule: "!self.url.startsWith('http://') || (has(self.allowInsecureHttp) && self.allowInsecureHttp)",
        message:
          'artifact.url is plain http://: use an https:// URL, or set artifact.allowInsecureHttp: true to accept http',
        fieldPath: '.url',
        check: (self) => !self.url.startsWith('http://') || self.allowInsecureHttp === true,
      }),
    ],
  },
);

export const ComponentSpec = s.object('How the agent handles this software.', {
  versions: s.mapList(
    'The versions machines may run, with their artifacts.',
    s.object('One installable version.', {
      version: componentVersion('The version, e.g. 1.7.22 or v1.36.3.'),
      artifact: ComponentArtifact,
    }),
    ['version'],
    {
      maxItems: 64,
      minItems: 1,
      rules: [
        cel<{ version: string }[]>({
          rule: 'self.all(v, self.exists_one(w, w.version == v.version))',
          message: 'versions must be unique',
          check: (self) => new Set(self.map((v) => v.version)).size === self.length,
        }),
      ],
    },
  ),
  install: s.object(
    'How an artifact becomes files on the host.',
    {
      method: s.stringEnum(
        'Archive: a .tar.gz unpacked into path; Binary: a single executable written to path; Image: an OCI image tarball imported into the container runtime by importCommand, once the runtime runs.',
        ['Archive', 'Binary', 'Image'],
      ),
      path: s.optional(hostPath('Where Archive unpacks and Binary writes. Required for both.')),
      stripComponents: s.optional(
        s.integer('Leading path elements to drop when unpacking an Archive. Default 0.', {
          minimum: 0,
          maximum: 8,
          default: 0,
        }),
      ),
      importCommand: s.optional(
        command(
          'Image only: the command that imports the downloaded tarball, $(KOK_ARTIFACT) standing for its path, e.g. ["$(KOK_ROOT)/usr/local/bin/ctr", "-n", "k8s.io", "images", "import", "--local", "$(KOK_ARTIFACT)"].',
        ),
      ),
    },
    {
      rules: [
        cel<{ method: string; importCommand?: string[] }>({
          rule: "(self.method == 'Image') == has(self.importCommand)",
          message: 'install.importCommand is required for the Image method and allowed for no other',
          fieldPath: '.importCommand',
          check: (self) => (self.method === 'Image') === (self.importCommand !== undefined),
        }),
        cel<{ method: string; path?: string }>({
          rule: "!(self.method in ['Archive', 'Binary']) || has(self.path)",
          message: 'install.path is required for the Archive and Binary methods',
          fieldPath: '.path',
          check: (self) => !['Archive', 'Binary'].includes(self.method) || self.path !== undefined,
        }),
      ],
    },
  ),
  service: s.optional(
    s.object(
      'How the software runs. Omit for software that is not a service (a CLI, a library).',
      {
        type: s.stringEnum('Systemd: a systemd unit; Process: a process the agent supervises.', [
          'Systemd',
          'Process',
        ]),
        unit: s.optional(systemdUnit('Name of the systemd unit, e.g. kubelet.service.')),
        command: s.optional(command('Command line of the supervised process.')),
        beforeRemoval: s.optional(
          command(
            'Run once when the host leaves the cluster (its Machine deleted and drained), before the service is stopped for good; e.g. a container runtime removes the containers of pods a drain leaves in place (DaemonSets). Host variables such as $(KOK_ROOT) are expanded. A failure is reported as a Warning Event and the host leaves all the same.',
          ),
        ),
      },
      {
        rules: [
          cel<{ type: string; unit?: string; command?: string[] }>({
            rule: "self.type == 'Systemd' ? has(self.unit) && !has(self.command) : has(self.command) && !has(self.unit)",
            message: 'a Systemd service sets unit, a Process service sets command',
            check: (self) =>
              self.type === 'Systemd'
                ? self.unit !== undefined && self.command === undefined
                : self.command !== undefined && self.unit === undefined,
          }),
        ],
      },
    ),
  ),
  dataPaths: s.optional(
    s.list(
      'Host paths (directories or files) where the software keeps what it creates itself, e.g. /var/lib/containerd, /run/containerd or the kubelet root directory. When the host leaves the cluster (its Machine deleted and drained), after every service stopped, the agent unmounts whatever is mounted at or below each and deletes it. Nothing else deletes them: a new version or a removal from the Machine spec keeps them. A path that holds the agent\'s own directories (/, /var, /var/lib/kok-agent, /opt/kok …) is left in place with a Warning Event.',
      s.string('An absolute host path, not / itself.', {
        maxLength: 1024,
        minLength: 1,
        rules: [
          absolutePathRule,
          noControlCharactersRule,
          cel<string>({
            rule: "!self.matches('^/+$')",
            message: 'a data path must not be / (the agent deletes it when the host leaves)',
            check: (self) => !/^\/+$/.test(self),
          }),
        ],
      }),
      { maxItems: 32 },
    ),
  ),
  healthCheck: s.optional(
    s.object(
      'How the agent decides the software is healthy.',
      {
        exec: s.optional(s.object('Run a command; exit 0 is healthy.', { command: command('The command.') })),
        http: s.optional(
          s.object('GET a URL on the host; 2xx is healthy.', {
            url: url(
              'The URL, e.g. http://127.0.0.1:10248/healthz.',
              ['http', 'https'],
              'http://127.0.0.1:10248/healthz',
            ),
          }),
        ),
        periodSeconds: s.optional(
          s.integer('Seconds between checks, 1 to 3600 (an hour). Default 10.', {
            minimum: 1,
            maximum: 3600,
            default: 10,
          }),
        ),
        timeoutSeconds: s.optional(
          s.integer('Seconds before a check counts as failed, 1 to 3600 (an hour). Default 5.', {
            minimum: 1,
            maximum: 3600,
            default: 5,
          }),
        ),
        initialDelaySeconds: s.optional(
          s.integer(
            'Seconds after the service (re)starts before the first check counts, so a slow start is not a failure. Default 0.',
            { minimum: 0, maximum: 3600, default: 0 },
          ),
        ),
        failureThreshold: s.optional(
          s.integer('Consecutive failures before the component is Failed. Default 3.', {
            minimum: 1,
            default: 3,
          }),
        ),
      },
      {
        rules: [
          cel<{ exec?: object; http?: object }>({
            rule: 'has(self.exec) != has(self.http)',
            message: 'a health check sets exactly one of exec or http',
            check: (self) => (self.exec !== undefined) !== (self.http !== undefined),
          }),
        ],
      },
    ),
  ),
  versionCheck: s.optional(
    s.object('How the agent observes the version really installed.', {
      command: command('Command that prints the version, e.g. ["/usr/bin/kubelet", "--version"].'),
      pattern: s.optional(
        s.string(
          'Regular expression applied to the output; its first capture group is the version. Default: the first thing that looks like a version.',
          { maxLength: 256 },
        ),
      ),
    }),
  ),
});
export type ComponentSpec = Static<typeof ComponentSpec>;

export const ComponentStatus = s.object('What the node-operator knows about this catalog entry.', {
  observedGeneration: s.optional(observedGeneration()),
  conditions: s.optional(
    conditions(
      'Accepted: True when the node-operator found the entry usable; False with reason InvalidSpec (the object breaks a rule of this schema, e.g. one stored before the rule existed), InvalidImportCommand (install.importCommand never names $(KOK_ARTIFACT), so the import is not given the downloaded file) or InvalidVersionPattern (versionCheck.pattern is not a regular expression the agent can compile). A NodePool does not roll out a template naming a Component that is not Accepted.',
    ),
  ),
});
export type ComponentStatus = Static<typeof ComponentStatus>;

export const ComponentSchema = resourceSchema(
  'Component is a catalog entry: how the node agent installs, runs, checks and observes one piece of host software.',
  ComponentSpec,
  ComponentStatus,
);
export type Component = Static<typeof ComponentSchema>;

export const ComponentResource: ResourceDefinition<typeof ComponentSchema> = {
  group: NODES_GROUP,
  version: API_VERSION_V1ALPHA1,
  kind: 'Component',
  plural: 'components',
  singular: 'component',
  shortNames: ['kcomp'],
  scope: 'Cluster',
  schema: ComponentSchema,
  printerColumns: [
    {
      name: 'Install',
      type: 'string',
      jsonPath: '.spec.install.method',
      description: 'How it is installed.',
    },
    { name: 'Service', type: 'string', jsonPath: '.spec.service.type', description: 'How it runs.' },
    AGE_COLUMN,
  ],
};
