/**
 * The command line: `kubectl kok <resource> <verb> [name] [flags]`, parsed with
 * node:util parseArgs. Pure: argv in, a Command (or a UsageError) out.
 *
 * Over 400 lines on purpose: the table of every verb (VERBS) and the parser
 * and help that read it stay together, so usage and parsing cannot drift.
 */
import { parseArgs } from 'node:util';
import { UsageError } from './cli-errors.ts';

export const OUTPUT_FORMATS = ['json', 'yaml', 'wide'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** Flags every command takes, spelled as kubectl spells them. */
export interface GlobalFlags {
  /** Path of the kubeconfig file. Default: $KUBECONFIG, then ~/.kube/config. */
  kubeconfig?: string;
  /** The kubeconfig context to use. Default: its current-context. */
  context?: string;
  /** Namespace of namespaced kinds (Cluster). Default: the context's namespace, else `default`. */
  namespace?: string;
  /** Output format. Default: human-readable text. */
  output?: OutputFormat;
}

export interface CommandFlags extends GlobalFlags {
  /** cluster list, cluster backup: every namespace. Default false. */
  allNamespaces: boolean;
  /** cluster backup: every Cluster of the namespace instead of one NAME. Default false. */
  all: boolean;
  /** cluster restore: the backup file to read, `-` for stdin. Required there. nodepool plan: the proposed NodePool. */
  filename?: string;
  /** nodepool plan: `component=version` settings applied to the live template, instead of -f. */
  set?: string[];
  /** nodepool status: redraw on every change until interrupted. Default false. */
  watch: boolean;
  /** nodepool rollback: the revision to go back to. Default: status.currentRevision, the last good one. */
  toRevision?: string;
  /** nodepool rollback: also set spec.paused to false, in the same write. Default false. */
  resume: boolean;
  /** machine bootstrap: how long the bootstrap token lives, in seconds. Default 900 (15 minutes). */
  ttlSeconds?: number;
  /** cluster backup: have the operator snapshot each Cluster's etcd first, and name the snapshots. Default false. */
  etcdSnapshot: boolean;
  /**
   * cluster restore: the PersistentVolumeClaim (in each Cluster's namespace) whose volume holds the operator's
   * snapshot directory; each Cluster created gets spec.etcd.restoreFrom with it and the file its backup names.
   */
  etcdSnapshotClaim?: string;
  /** cluster plan: the Kubernetes version to plan for (--version V). Required there. */
  targetVersion?: string;
}

export type Verb =
  | 'cluster list'
  | 'cluster get'
  | 'cluster plan'
  | 'cluster kubeconfig'
  | 'cluster backup'
  | 'cluster restore'
  | 'clusterrollout plan'
  | 'nodepool status'
  | 'nodepool plan'
  | 'nodepool pause'
  | 'nodepool resume'
  | 'nodepool rollback'
  | 'machine describe'
  | 'machine bootstrap'
  | 'why machine'
  | 'why nodepool'
  | 'why cluster';

export type Command =
  | { kind: 'help'; topic?: string }
  | { kind: 'version' }
  | { kind: 'run'; verb: Verb; name?: string; flags: CommandFlags };

type VerbFlag =
  | 'all-namespaces'
  | 'all'
  | 'filename'
  | 'watch'
  | 'to-revision'
  | 'resume'
  | 'ttl'
  | 'set'
  | 'etcd-snapshot'
  | 'etcd-snapshot-claim';

interface VerbSpec {
  /** Takes a NAME argument. */
  takesName: boolean;
  /** Flags beyond the global ones that make sense for this verb. */
  flags: readonly VerbFlag[];
  /** Output formats this verb can print. */
  outputs: readonly OutputFormat[];
  summary: string;
}

export const VERBS: Readonly<Record<Verb, VerbSpec>> = {
  'cluster list': {
    takesName: false,
    flags: ['all-namespaces'],
    outputs: ['json', 'yaml', 'wide'],
    summary: 'List Clusters with their version, phase and endpoint',
  },
  'cluster get': {
    takesName: true,
    flags: [],
    outputs: ['json', 'yaml'],
    summary: 'Show one Cluster: versions, components, gates, conditions',
  },
  'cluster plan': {
    takesName: true,
    flags: [],
    outputs: ['json', 'yaml'],
    summary:
      'What spec.version V (--version V) would do: allowed or not, etcd, component order and gates, kubelet skew; writes nothing',
  },
  'cluster kubeconfig': {
    takesName: true,
    flags: [],
    outputs: [],
    summary: "Print the Cluster's admin kubeconfig (from status.kubeconfigSecretRef)",
  },
  'cluster backup': {
    takesName: true,
    flags: ['all', 'all-namespaces', 'etcd-snapshot'],
    outputs: [],
    summary:
      'Print the Cluster (--all: every one) and its PKI Secrets as YAML to restore from; holds private keys. --etcd-snapshot: the operator snapshots etcd first',
  },
  'cluster restore': {
    takesName: false,
    flags: ['filename', 'etcd-snapshot-claim'],
    outputs: [],
    summary:
      'Create the Clusters and Secrets of a backup (-f FILE) that are missing; the operator adopts them. --etcd-snapshot-claim C: new Clusters start etcd from the snapshots the backup names',
  },
  'clusterrollout plan': {
    takesName: true,
    flags: ['filename'],
    outputs: ['json', 'yaml'],
    summary:
      'Selected Clusters, waves with members, bakes and pauses, what starts now: the live rollout or -f FILE; writes nothing',
  },
  'nodepool status': {
    takesName: true,
    flags: ['watch'],
    outputs: ['json', 'yaml'],
    summary: 'Rollout progress per wave, counts and why the pool is paused (-w redraws live)',
  },
  'nodepool plan': {
    takesName: true,
    flags: ['filename', 'set'],
    outputs: ['json', 'yaml'],
    summary:
      'What applying a spec (-f FILE, or --set component=version) would do: revision, changes, waves, steps, ETA; writes nothing',
  },
  'nodepool pause': {
    takesName: true,
    flags: [],
    outputs: ['json', 'yaml'],
    summary: 'Set spec.paused: start no new machine updates (updates in flight finish)',
  },
  'nodepool resume': {
    takesName: true,
    flags: [],
    outputs: ['json', 'yaml'],
    summary: 'Clear spec.paused: carry on with the rollout, past a pauseAfter wave too',
  },
  'nodepool rollback': {
    takesName: true,
    flags: ['to-revision', 'resume'],
    outputs: ['json', 'yaml'],
    summary: 'Put the template of the last good revision back into spec.template',
  },
  'machine describe': {
    takesName: true,
    flags: [],
    outputs: ['json', 'yaml'],
    summary: 'Desired against observed: components, files, revision, conditions',
  },
  'machine bootstrap': {
    takesName: true,
    flags: ['ttl'],
    outputs: ['json', 'yaml'],
    summary: 'Create a bootstrap token and print what a host needs to join as the Machine',
  },
  'why machine': {
    takesName: true,
    flags: [],
    outputs: ['json', 'yaml'],
    summary: 'What holds the Machine from its pool’s target, and what to do (status.waitingFor, its agent)',
  },
  'why nodepool': {
    takesName: true,
    flags: [],
    outputs: ['json', 'yaml'],
    summary: 'What holds the pool, and how many of its machines wait for what',
  },
  'why cluster': {
    takesName: true,
    flags: [],
    outputs: ['json', 'yaml'],
    summary: 'What holds the Cluster: paused, held, or the gate its upgrade waits at',
  },
};

/** Resource words people type, kubectl-style: singular, plural and the CRD short names. */
const RESOURCE_ALIASES: Readonly<Record<string, string>> = {
  cluster: 'cluster',
  clusters: 'cluster',
  kcl: 'cluster',
  nodepool: 'nodepool',
  nodepools: 'nodepool',
  knp: 'nodepool',
  machine: 'machine',
  machines: 'machine',
  kma: 'machine',
  clusterrollout: 'clusterrollout',
  clusterrollouts: 'clusterrollout',
  kcr: 'clusterrollout',
  // `why <resource> <name>`: the question comes first, the resource is its verb.
  why: 'why',
};

const OPTIONS = {
  kubeconfig: { type: 'string' },
  context: { type: 'string' },
  namespace: { type: 'string', short: 'n' },
  output: { type: 'string', short: 'o' },
  'all-namespaces': { type: 'boolean', short: 'A' },
  all: { type: 'boolean' },
  filename: { type: 'string', short: 'f' },
  watch: { type: 'boolean', short: 'w' },
  'to-revision': { type: 'string' },
  resume: { type: 'boolean' },
  ttl: { type: 'string' },
  /** `cluster plan --version V`, renamed by withPlanVersion (--version alone prints the plugin's version). */
  'to-version': { type: 'string' },
  set: { type: 'string', multiple: true },
  'etcd-snapshot': { type: 'boolean' },
  'etcd-snapshot-claim': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
} as const;

const HELP_HINT = 'run: kubectl kok --help';

/**
 * `--version V` and `--version=V` name the version cluster plan plans for;
 * `--version` alone prints the plugin's version, as kubectl plugins do. A
 * value is told apart by its shape (v1.37.0), so `--version cluster list`
 * still prints the version; `cluster plan` with a bare `--version` is a usage
 * error (parseCommandLine), not the plugin's version.
 */
function withPlanVersion(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const next = argv[i + 1];
    if (arg.startsWith('--version=')) out.push(`--to-version=${arg.slice('--version='.length)}`);
    else if (arg === '--version' && next !== undefined && /^v?\d/.test(next)) {
      out.push(`--to-version=${next}`);
      i++;
    } else out.push(arg);
  }
  return out;
}

function parse(argv: readonly string[]) {
  try {
    return parseArgs({ args: withPlanVersion(argv), options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    // parseArgs explains unknown flags and missing values well; add where help is.
    throw new UsageError(`${(error as Error).message}; ${HELP_HINT}`);
  }
}

export function parseCommandLine(argv: readonly string[]): Command {
  const { values, positionals } = parse(argv);
  const [resourceWord, typedVerb, ...rest] = positionals;
  const verbWord =
    resourceWord === 'why' && typedVerb ? (RESOURCE_ALIASES[typedVerb] ?? typedVerb) : typedVerb;
  const resource = resourceWord === undefined ? undefined : RESOURCE_ALIASES[resourceWord];
  // withPlanVersion took every --version that had a version after it; one left on cluster plan has none.
  if (values.version && resource === 'cluster' && typedVerb === 'plan')
    throw new UsageError(
      `cluster plan --version needs the version to plan for, like v1.37.0: kubectl kok cluster plan <name> --version v1.37.0 ` +
        `(--version without a command prints the plugin's version)`,
    );
  if (values.version) return { kind: 'version' };
  if (values.help || resourceWord === undefined || resourceWord === 'help') {
    return resource === undefined ? { kind: 'help' } : { kind: 'help', topic: resource };
  }
  if (resource === undefined)
    throw new UsageError(
      `unknown resource "${resourceWord}": use cluster, clusterrollout, nodepool, machine or why; ${HELP_HINT}`,
    );
  const verbs = Object.keys(VERBS).filter((verb) => verb.startsWith(`${resource} `));
  const known = verbs.map((verb) => verb.split(' ')[1]).join(', ');
  if (verbWord === undefined) throw new UsageError(`${resource} needs a command (${known}); ${HELP_HINT}`);
  const verb = `${resource} ${verbWord}`;
  if (!isVerb(verb)) throw new UsageError(`unknown command "${resource} ${verbWord}": use one of ${known}`);
  const spec = VERBS[verb];

  const [name, ...extra] = rest;
  // cluster backup: a NAME, or every Cluster of the namespace (--all) or of all of them (-A).
  const everyCluster =
    spec.flags.includes('all') && (values.all === true || values['all-namespaces'] === true);
  if (everyCluster && name !== undefined) throw new UsageError(`${verb} takes a NAME or --all/-A, not both`);
  // clusterrollout plan -f FILE: the name may come from the file.
  const nameInFile = verb === 'clusterrollout plan' && values.filename !== undefined;
  if (spec.takesName && name === undefined && !everyCluster && !nameInFile)
    throw new UsageError(
      `${verb} needs a NAME: kubectl kok ${verb} <name>` +
        (spec.flags.includes('all') ? ` (or --all for every Cluster of the namespace)` : '') +
        (verb === 'clusterrollout plan' ? ' (or -f FILE with the ClusterRollout)' : ''),
    );
  const unexpected = spec.takesName ? extra : rest;
  if (unexpected.length > 0)
    throw new UsageError(
      `${verb} takes ${spec.takesName ? 'one NAME' : 'no arguments'}; unexpected: ${unexpected.join(' ')}`,
    );

  for (const flag of [
    'all-namespaces',
    'all',
    'filename',
    'watch',
    'to-revision',
    'resume',
    'ttl',
    'set',
    'etcd-snapshot',
    'etcd-snapshot-claim',
  ] as const) {
    if (values[flag] !== undefined && !spec.flags.includes(flag))
      throw new UsageError(`--${flag} does not apply to ${verb}`);
  }
  if (verb === 'cluster restore') {
    if (values.filename === undefined)
      throw new UsageError(
        'cluster restore needs -f FILE: the output of kubectl kok cluster backup (- reads stdin)',
      );
    if (values.namespace !== undefined)
      throw new UsageError(
        'cluster restore puts every object back in the namespace the file names; leave out -n',
      );
    const claim = values['etcd-snapshot-claim'];
    // Checked here, not by the apiserver: that would refuse the Cluster after its Secrets were created.
    if (claim !== undefined && !isClaimName(claim))
      throw new UsageError(
        `--etcd-snapshot-claim "${claim}" is not a PersistentVolumeClaim name: lowercase letters, digits, '-' and '.', ` +
          'starting and ending with a letter or digit, at most 253 characters',
      );
  }
  const flags: CommandFlags = {
    allNamespaces: values['all-namespaces'] === true,
    all: values.all === true,
    watch: values.watch === true,
    resume: values.resume === true,
    etcdSnapshot: values['etcd-snapshot'] === true,
  };
  const targetVersion = values['to-version'];
  if (targetVersion !== undefined && verb !== 'cluster plan')
    throw new UsageError(
      `--version ${targetVersion} applies to cluster plan only (--version alone prints the plugin's version)`,
    );
  if (verb === 'cluster plan') {
    if (targetVersion === undefined)
      throw new UsageError(
        'cluster plan needs the version to plan for: kubectl kok cluster plan <name> --version v1.37.0',
      );
    flags.targetVersion = targetVersion;
  }
  if (values.output !== undefined) {
    if (!spec.outputs.includes(values.output as OutputFormat))
      throw new UsageError(
        spec.outputs.length === 0
          ? `-o does not apply to ${verb}`
          : `-o ${values.output} is not supported by ${verb}: use ${spec.outputs.join(' or ')}`,
      );
    flags.output = values.output as OutputFormat;
  }
  if (verb === 'nodepool plan' && (values.filename === undefined) === (values.set === undefined))
    throw new UsageError(
      'nodepool plan needs the proposed spec: either -f FILE (the whole NodePool) or --set component=version',
    );
  if (flags.watch && flags.output !== undefined)
    throw new UsageError('--watch redraws the text view; leave out -o');
  if (flags.allNamespaces && values.namespace !== undefined)
    throw new UsageError('use either -A/--all-namespaces or -n/--namespace, not both');
  if (values.kubeconfig !== undefined) flags.kubeconfig = values.kubeconfig;
  if (values.context !== undefined) flags.context = values.context;
  if (values.namespace !== undefined) flags.namespace = values.namespace;
  if (values['to-revision'] !== undefined) flags.toRevision = values['to-revision'];
  if (values.filename !== undefined) flags.filename = values.filename;
  if (values.set !== undefined) flags.set = values.set;
  if (values['etcd-snapshot-claim'] !== undefined) flags.etcdSnapshotClaim = values['etcd-snapshot-claim'];
  if (values.ttl !== undefined) flags.ttlSeconds = tokenTtlSeconds(values.ttl);
  return spec.takesName && name !== undefined
    ? { kind: 'run', verb, name, flags }
    : { kind: 'run', verb, flags };
}

/** The fewest seconds a bootstrap token may live (@kok/pki createBootstrapToken). */
const MIN_TOKEN_TTL_SECONDS = 60;

/** `--ttl` as Go and kubectl write durations (`15m`, `1h30m`, `90s`), in whole seconds. */
export function tokenTtlSeconds(text: string): number {
  const parts = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(text);
  if (!parts || text === '')
    throw new UsageError(`--ttl "${text}" is not a duration: use e.g. 15m, 1h or 90s`);
  const [hours, minutes, seconds] = parts.slice(1).map((part) => Number(part ?? 0));
  const total = (hours ?? 0) * 3600 + (minutes ?? 0) * 60 + (seconds ?? 0);
  if (total < MIN_TOKEN_TTL_SECONDS)
    throw new UsageError(`--ttl ${text} is too short: a bootstrap token lives at least 1m`);
  return total;
}

/** A DNS subdomain, as Kubernetes names a PersistentVolumeClaim. */
function isClaimName(name: string): boolean {
  return name.length <= 253 && /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(name);
}

function isVerb(verb: string): verb is Verb {
  return Object.hasOwn(VERBS, verb);
}

/** The --help text; with a topic, only that resource's commands. */
export function helpText(topic?: string): string {
  const verbs = (Object.keys(VERBS) as Verb[]).filter((verb) => !topic || verb.startsWith(`${topic} `));
  const width = Math.max(...verbs.map((verb) => verb.length + (VERBS[verb].takesName ? 7 : 0)));
  const lines = verbs.map((verb) => {
    const usage = `${verb}${VERBS[verb].takesName ? ' <name>' : ''}`;
    return `  ${usage.padEnd(width)}   ${VERBS[verb].summary}`;
  });
  return `kubectl kok: operate kok Clusters, ClusterRollouts, NodePools and Machines.

Usage:
  kubectl kok <resource> <command> [name] [flags]
  kubectl kok why <machine|nodepool|cluster> <name> [flags]

Commands:
${lines.join('\n')}

Flags:
      --kubeconfig <path>   kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)
      --context <name>      kubeconfig context (default: its current-context)
  -n, --namespace <ns>      namespace of Clusters (default: the context's, else "default")
  -A, --all-namespaces      cluster list, cluster backup: every namespace
      --all                 cluster backup: every Cluster of the namespace
      --etcd-snapshot       cluster backup: have the operator snapshot each Cluster's etcd (not an external one) to its snapshot volume first, and name the files; fails if one is not taken
      --etcd-snapshot-claim <claim>
                            cluster restore: each Cluster created starts its etcd from the snapshot its backup names (spec.etcd.restoreFrom), on this claim in its namespace whose volume holds the operator's snapshot directory; refused if one without an external etcd has none
  -f, --filename <file>     cluster restore: the backup to restore; nodepool plan: the proposed NodePool; clusterrollout plan: the proposed ClusterRollout (- for stdin)
      --set <name=version>  nodepool plan: a component version to plan for instead of -f (repeatable)
  -o, --output <format>     json, yaml, or wide (cluster list)
  -w, --watch               nodepool status: redraw on every change, until Ctrl-C
      --to-revision <rev>   nodepool rollback: go back to this revision instead of the last good one
      --resume              nodepool rollback: clear spec.paused in the same write
      --ttl <duration>      machine bootstrap: how long the bootstrap token lives (default 15m)
      --version <v>         cluster plan: the Kubernetes version to plan for (alone: print the plugin's version)
  -h, --help                this help

Exit codes: 0 success, 1 the command failed (not found, refused, unreachable), 2 usage error.
`;
}
