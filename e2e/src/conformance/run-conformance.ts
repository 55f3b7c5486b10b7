/**
 * `npm run conformance`: the upstream Kubernetes [Conformance] suite of the pinned
 * version, built here from Go modules (tools/build-conformance.sh), judging a
 * Cluster that kok boots the way `npm run kok` does with real hosts: a
 * meta-cluster of real hosts, the Cluster's control plane as real containers,
 * and a NodePool of real hosts that joined it. The suite's images are packed
 * here and imported on the pool's hosts under the names it asks for.
 *
 *   npm run conformance -- [--minutes 60] [--procs 1] [--machines 2] [--control-plane containers|processes]
 *                          [--focus REGEX] [--out DIR] [--keep]
 *
 * --minutes is the suite's budget (ginkgo's --timeout): specs not reached by then are reported as not
 * run. --control-plane processes runs the Cluster's control plane on the pod runtime, in the machine's
 * network, where the apiserver reaches the pool's kubelets (logs, exec, port-forward); the run then adds
 * routes to the machine's table into the pool's pod and Service CIDRs (machine-routes.ts: pod proxy,
 * webhooks), removed at the end; they fail if a route to those ranges exists already. With containers
 * (the default) it runs in the meta-cluster's pod network, which reaches the pool only through its
 * NodePort, and kok has no tunnel for the way back. --procs > 1 spreads the specs over ginkgo processes
 * ([Serial] ones still run alone, at the end).
 * Writes ginkgo's report.json, the suite's log (e2e.log) and summary.json to DIR (default
 * .kok/conformance), and prints one JSON line of figures last. Not part of `npm test`.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { clusterType } from '@kok/api';
import type { PodRoute } from '@kok/host-rig';
import {
  addMachineRoutes,
  machineRoutesIntoRig,
  NODE_PATHS,
  nodeRouteSource,
  removeMachineRoutes,
  RIG_ADDRESS_PREFIX,
  rigBridge,
  rigsOwnedBy,
} from '@kok/host-rig';
import { builtinTypes } from '@kok/reconcile';
import { pinnedVersions } from '@kok/testing';
import { STACK_CLUSTER, STACK_NAMESPACE, startLocalStack } from '../support/local-stack.ts';
import { packConformanceImages } from './conformance-images.ts';
import type { Exclusion, GinkgoSuiteReport } from './conformance-report.ts';
import { skipPattern, summarize } from './conformance-report.ts';

const repositoryRoot = fileURLToPath(new URL('../../../', import.meta.url));
const log = (message: string) => console.log(`[conformance] ${message}`);

/** Left out of every run, and why. */
const EXCLUSIONS: Exclusion[] = [
  {
    pattern: /\[Disruptive\]/,
    reason: 'disruptive: restarts or breaks cluster components the run depends on',
  },
  {
    pattern: new RegExp(
      [
        '\\[sig-apps\\] StatefulSet Basic StatefulSet functionality',
        '\\[sig-apps\\] Deployment should run the lifecycle of a Deployment',
        '\\[sig-apps\\] Deployment RecreateDeployment',
        '\\[sig-apps\\] Daemon set \\[Serial\\] should update pod when spec was updated and update strategy is RollingUpdate',
        '\\[sig-node\\] Pods should run through the lifecycle of Pods and PodStatus',
      ].join('|'),
    ),
    reason:
      'starts from agnhost:2.55 (the suite\'s "previous agnhost"), a version cut between Kubernetes releases: no tagged module holds its source to build it from here, and another agnhost packed under its name would fake it',
  },
];

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '60' },
    procs: { type: 'string', default: '1' },
    machines: { type: 'string', default: '2' },
    'control-plane': { type: 'string', default: 'containers' },
    focus: { type: 'string', default: '\\[Conformance\\]' },
    out: { type: 'string', default: join(repositoryRoot, '.kok/conformance') },
    keep: { type: 'boolean', default: false },
  },
});
const controlPlane = values['control-plane'];
if (controlPlane !== 'containers' && controlPlane !== 'processes')
  throw new Error(`--control-plane must be containers or processes, not "${controlPlane}"`);
const minutes = Number(values.minutes);
const procs = Number(values.procs);
const out = resolve(values.out);
mkdirSync(out, { recursive: true });
const began = Date.now();
const since = () => `${((Date.now() - began) / 1000).toFixed(0)} s`;

// 1. The suite, agnhost and ginkgo, built from the module the control plane is built from.
const built = execFileSync('bash', [join(repositoryRoot, 'tools/build-conformance.sh')], {
  encoding: 'utf8',
  stdio: ['ignore', 'pipe', 'inherit'],
})
  .trim()
  .split('\n')
  .at(-1) as string;
const e2eTest = join(built, 'e2e.test');
const version = pinnedVersions().kubernetes;
log(`e2e.test, agnhost and ginkgo for ${version} in ${built} (at ${since()})`);

// 2. Its images, as it lists them.
const listed = execFileSync(e2eTest, ['--list-images'], { encoding: 'utf8' })
  .split('\n')
  .map((line) => line.trim())
  .filter((line) => line !== '');
const moduleDir = join(
  execFileSync('go', ['env', 'GOMODCACHE'], { encoding: 'utf8' }).trim(),
  `k8s.io/kubernetes@${version}`,
);
const agnhostSource = join(moduleDir, 'test/images/agnhost');
const packed = packConformanceImages({
  agnhost: join(built, 'agnhost'),
  agnhostVersion: readFileSync(join(agnhostSource, 'VERSION'), 'utf8').trim(),
  agnhostSource,
  listed,
});
const imagesDir = join(out, 'images');
mkdirSync(imagesDir, { recursive: true });
const tarballs = packed.images.map((image, index) => {
  const path = join(imagesDir, `${index}.oci.tar`);
  writeFileSync(path, image.tarball);
  return path;
});
log(
  `packed ${packed.images.flatMap((i) => i.references).join(', ')}; not built here: ${packed.missing.length} of ${listed.length} listed (at ${since()})`,
);

// 3. The Cluster, as `npm run kok` boots it with real hosts.
const stack = await startLocalStack({
  stateDir: join(out, 'stack'),
  machines: Number(values.machines),
  apiServerReplicas: 1,
  hosts: 'real',
  controlPlane,
  onProgress: (line) => console.log(line),
  timeoutMs: 600_000,
});
let exitCode: number;
/** Routes this run added to the machine's table (machine-routes.ts), through the pool rig's bridge. */
let machineRoutes: { bridge: string; routes: PodRoute[] } = { bridge: '', routes: [] };

/**
 * The machine's routes into the pool's rig, from its Nodes and the Cluster's Service CIDR; fails
 * unless every machine of the pool has its pod CIDR routed and the Services are.
 */
async function routeMachineIntoPool(subnet: number): Promise<void> {
  const nodes = (await stack.biz.list(builtinTypes.node)).items.map(nodeRouteSource);
  const rigHosts = new Set(
    nodes.flatMap((node) =>
      node.address?.startsWith(`${RIG_ADDRESS_PREFIX}.${subnet}.`) ? [node.address] : [],
    ),
  );
  const cluster = await stack.meta.get(clusterType, { namespace: STACK_NAMESPACE, name: STACK_CLUSTER });
  // The API's default when the Cluster names none.
  const serviceCidr = cluster.spec.network?.serviceCIDR ?? '10.96.0.0/12';
  const routes = machineRoutesIntoRig(rigHosts, nodes, serviceCidr);
  const routed = new Set(routes.map((route) => route.via));
  const unrouted = stack.machines.filter((machine) => {
    const node = nodes.find((n) => n.name === machine);
    return !node?.address || !routed.has(node.address);
  });
  if (unrouted.length > 0 || !routes.some((route) => route.destination === serviceCidr))
    throw new Error(
      `cannot route the machine into the pool: no pod CIDR or rig address for ${unrouted.join(', ') || 'the Services'} ` +
        `(Nodes: ${JSON.stringify(nodes)})`,
    );
  await addMachineRoutes(rigBridge(subnet), routes);
  machineRoutes = { bridge: rigBridge(subnet), routes };
}

try {
  // 4. The images on every host of the pool (the rig whose hosts those are).
  const workers = rigsOwnedBy(stack.pid).find((rig) =>
    existsSync(join(rig.dir, 'hosts', stack.machines[0] ?? '')),
  );
  if (!workers) throw new Error(`no rig of process ${stack.pid} holds host ${stack.machines[0]}`);
  for (const machine of stack.machines) {
    const root = join(workers.dir, 'hosts', machine);
    for (const tarball of tarballs)
      execFileSync(
        join(root, NODE_PATHS.containerd, 'ctr'),
        [
          '--address',
          join(root, 'run/containerd/containerd.sock'),
          '-n',
          'k8s.io',
          'images',
          'import',
          '--local',
          tarball,
        ],
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
  }
  log(`images imported on ${stack.machines.join(', ')} (at ${since()})`);

  // 4b. With the control plane on the machine, the machine routes to the pool's pod and Service
  // networks, as a flat network routes a control plane's hosts to the pod CIDRs: webhooks and the
  // apiserver's pod proxy need it. The Cluster's own apiserver pods (containers) have no such path.
  if (stack.controlPlane === 'processes') {
    await routeMachineIntoPool(workers.subnet);
    log(
      `the machine routes ${machineRoutes.routes.map((r) => `${r.destination} via ${r.via}`).join(', ')} (at ${since()})`,
    );
  }

  // 5. The suite.
  const reportPath = join(out, 'report.json');
  const suiteFlags = [
    `--kubeconfig=${stack.bizKubeconfigPath}`,
    '--provider=skeleton',
    `--kubectl-path=${join(stack.binDir, 'kubectl')}`,
    `--report-dir=${out}`,
    '--disable-log-dump',
  ];
  const ginkgoFlags = {
    focus: values.focus,
    skip: skipPattern(EXCLUSIONS),
    timeout: `${minutes}m`,
    // The ginkgo runner puts its reports under --output-dir: a path relative to it there.
    'json-report': procs > 1 ? 'report.json' : reportPath,
  };
  const [command, args] =
    procs > 1
      ? [
          join(built, 'ginkgo'),
          [
            `--procs=${procs}`,
            '--no-color',
            `--output-dir=${out}`,
            ...Object.entries(ginkgoFlags).map(([flag, value]) => `--${flag}=${value}`),
            e2eTest,
            '--',
            ...suiteFlags,
          ],
        ]
      : [
          e2eTest,
          [
            '--ginkgo.no-color',
            ...Object.entries(ginkgoFlags).map(([flag, value]) => `--ginkgo.${flag}=${value}`),
            ...suiteFlags,
          ],
        ];
  log(
    `running ${values.focus} for up to ${minutes} min with ${procs} process(es); log in ${join(out, 'e2e.log')}`,
  );
  const suiteLog = createWriteStream(join(out, 'e2e.log'));
  const suite = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  suite.stdout.pipe(suiteLog);
  suite.stderr.pipe(suiteLog);
  const suiteExit = await new Promise<number | null>((done) => suite.once('exit', (code) => done(code)));
  log(`the suite exited with ${suiteExit} (at ${since()})`);

  // 6. What it came to.
  const summary = summarize(JSON.parse(readFileSync(reportPath, 'utf8')) as GinkgoSuiteReport[], EXCLUSIONS);
  const result = {
    kubernetes: version,
    controlPlane,
    minutes,
    procs,
    ...summary,
    imagesNotBuiltHere: packed.missing,
    wallSeconds: Math.round((Date.now() - began) / 1000),
  };
  writeFileSync(join(out, 'summary.json'), `${JSON.stringify(result, null, 2)}\n`);
  for (const failure of summary.failures) log(`FAILED ${failure.name}: ${failure.message}`);
  log(
    `${summary.total} [Conformance] specs: ${summary.passed} passed, ${summary.failed} failed, ` +
      `${summary.excluded} excluded, ${summary.notRun} not run in the time given`,
  );
  const { failures: _, imagesNotBuiltHere: __, ...figures } = result;
  console.log(JSON.stringify(figures));
  exitCode = summary.failed > 0 ? 1 : 0;
} catch (error) {
  console.error(error);
  exitCode = 2;
} finally {
  if (values.keep)
    log(
      `the stack stays up, and the machine's routes into its pool with it: kok down --state-dir ${join(out, 'stack')}`,
    );
  else {
    for (const problem of await removeMachineRoutes(machineRoutes.bridge, machineRoutes.routes))
      log(`a route stays: ${problem}`);
    await stack.stop();
  }
}
process.exit(exitCode);
