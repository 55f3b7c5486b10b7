/**
 * `kubectl kok nodepool rollback` run by people bound only to the node-operator
 * chart's user roles, against the real apiserver: the chart's aggregated roles
 * are rendered with the real helm and applied, and the plugin's own rollback
 * runs as each user (impersonated).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { revisionName, templateRevision } from '@kok/api';
import type { NodePoolTemplate } from '@kok/api';
import { builtinTypes, KubeClient } from '@kok/reconcile';
import { KubeConfig } from '@kubernetes/client-node';
import { sharedBinDir, sharedKubeConfig, sharedKubeconfigPath, uniqueName } from '@kok/testing/vitest';
import type {} from '@kok/testing/global-setup';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCommandLine } from './command-line.ts';
import type { CommandFlags } from './command-line.ts';
import { nodePoolRollback } from './commands/nodepool-commands.ts';
import type { CommandIo } from './commands/io.ts';
import type { Connection } from './kube-connection.ts';
import { controllerRevisionType, nodePoolType } from './resources.ts';
import { eventually, REPOSITORY_ROOT, run } from './test-support/plugin-process.ts';

const CHART = join(REPOSITORY_ROOT, 'charts', 'node-operator');
const prefix = uniqueName('kok-node');
const namespace = uniqueName('kok-system');
const poolName = uniqueName('workers');
const roleNames = [
  'viewer',
  'pool-operator',
  'pool-operator-nodepools',
  'pool-operator-rollback',
  'catalog-admin',
  'catalog-admin-catalog',
].map((role) => `${prefix}-${role}`);
const bindings: string[] = [];
const good: NodePoolTemplate = { components: [{ name: 'kubelet', version: 'v1.35.4' }] };
const bad: NodePoolTemplate = { components: [{ name: 'kubelet', version: 'v1.36.3' }] };

let admin: KubeClient;
let kubectl: string;
let helmHome: string;

async function kubectlOrThrow(...args: string[]): Promise<string> {
  const outcome = await run(kubectl, args, { KUBECONFIG: sharedKubeconfigPath() });
  if (outcome.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${outcome.stderr}`);
  return outcome.stdout;
}

/** The chart's user roles as `helm template` renders them with `userRoles.namePrefix`. */
async function renderUserRoles(): Promise<string> {
  const rendered = await run(
    join(sharedBinDir(), 'helm'),
    [
      'template',
      'kok',
      CHART,
      '--show-only',
      'templates/aggregated-roles.yaml',
      '--set',
      `userRoles.namePrefix=${prefix}`,
    ],
    {
      HELM_CACHE_HOME: join(helmHome, 'cache'),
      HELM_CONFIG_HOME: join(helmHome, 'config'),
      HELM_DATA_HOME: join(helmHome, 'data'),
    },
  );
  if (rendered.code !== 0) throw new Error(rendered.stderr);
  return rendered.stdout;
}

/** A user bound to one of the chart's roles, cluster-wide. */
async function bindUser(role: string): Promise<string> {
  const user = uniqueName(role);
  await kubectlOrThrow(
    'create',
    'clusterrolebinding',
    user,
    `--clusterrole=${prefix}-${role}`,
    `--user=${user}`,
  );
  bindings.push(user);
  return user;
}

/** What the plugin connects with, acting as `user` (the admin credential impersonating it). */
function connectionAs(user: string): Connection {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromString(sharedKubeConfig().exportConfig());
  const current = kubeConfig.getCurrentUser();
  if (!current) throw new Error('the shared kubeconfig has no user');
  kubeConfig.users = kubeConfig.users.map((u) =>
    u.name === current.name ? { ...u, impersonateUser: user } : u,
  );
  return {
    client: new KubeClient(kubeConfig, { userAgent: 'kubectl-kok', fieldManager: 'kubectl-kok' }),
    namespace: 'default',
    server: kubeConfig.getCurrentCluster()?.server ?? '',
    kubeConfig,
  };
}

function rollbackFlags(): CommandFlags {
  const command = parseCommandLine(['nodepool', 'rollback', poolName]);
  if (command.kind !== 'run') throw new Error('nodepool rollback did not parse');
  return command.flags;
}

function captureIo(): CommandIo & { out: string[] } {
  const out: string[] = [];
  return {
    out,
    stdout: (text) => out.push(text),
    stderr: (text) => out.push(text),
    now: () => new Date(),
    isTty: false,
    signal: new AbortController().signal,
  };
}

/** Runs the plugin's rollback as `user`; resolves to what it printed, or rejects with its error. */
async function rollbackAs(user: string): Promise<string> {
  const connection = connectionAs(user);
  const io = captureIo();
  try {
    await nodePoolRollback(connection, poolName, rollbackFlags(), io);
    return io.out.join('');
  } finally {
    connection.client.close();
  }
}

beforeAll(async () => {
  kubectl = join(sharedBinDir(), 'kubectl');
  helmHome = mkdtempSync(join(tmpdir(), 'kok-helm-'));
  admin = new KubeClient(sharedKubeConfig());
  const crds = join(CHART, 'crds');
  await kubectlOrThrow('apply', '--server-side', '--force-conflicts', '-f', crds);
  await eventually(
    'the node tier CRDs to be Established',
    async () =>
      (
        await run(kubectl, ['wait', '--for=condition=Established', '--timeout=60s', '-f', crds], {
          KUBECONFIG: sharedKubeconfigPath(),
        })
      ).code === 0,
    60_000,
  );
  const roles = join(helmHome, 'roles.yaml');
  writeFileSync(roles, await renderUserRoles());
  await kubectlOrThrow('apply', '-f', roles);

  // A pool whose last good revision is `good`, with `bad` in its spec, and the node-operator's record of `good`.
  await admin.create(builtinTypes.namespace, { metadata: { name: namespace } });
  await eventually('the NodePool API to serve', async () => {
    try {
      await admin.create(nodePoolType, {
        apiVersion: 'nodes.kok.dev/v1alpha1',
        kind: 'NodePool',
        metadata: { name: poolName },
        spec: { template: bad },
      });
      return true;
    } catch (error) {
      if ((error as { code?: number }).code === 404) return false;
      throw error;
    }
  });
  await admin.mergePatchStatus(
    nodePoolType,
    { name: poolName },
    { status: { currentRevision: templateRevision(good) } },
  );
  await admin.create(controllerRevisionType, {
    metadata: {
      name: revisionName(poolName, templateRevision(good)),
      namespace,
      labels: { 'nodes.kok.dev/pool': poolName },
    },
    revision: 1,
    data: good,
  });
}, 120_000);

afterAll(async () => {
  if (!admin) return;
  await admin.delete(nodePoolType, { name: poolName }).catch(() => undefined);
  await admin.delete(builtinTypes.namespace, { name: namespace }).catch(() => undefined);
  await run(kubectl, ['delete', '--ignore-not-found', ...roleNames.map((n) => `clusterrole/${n}`)], {
    KUBECONFIG: sharedKubeconfigPath(),
  });
  await run(kubectl, ['delete', '--ignore-not-found', ...bindings.map((n) => `clusterrolebinding/${n}`)], {
    KUBECONFIG: sharedKubeconfigPath(),
  });
  admin.close();
  rmSync(helmHome, { recursive: true, force: true });
});

describe('kubectl kok nodepool rollback under the chart user roles', () => {
  it('is refused to a viewer, who may read the pool but not roll it back', async () => {
    const viewer = await bindUser('viewer');
    // The aggregation controller fills the role in a moment after it is stored.
    await eventually(
      'the viewer to read the pool',
      async () =>
        await connectionAs(viewer)
          .client.get(nodePoolType, { name: poolName })
          .then(
            () => true,
            () => false,
          ),
      60_000,
    );
    await expect(rollbackAs(viewer)).rejects.toThrow(/^not allowed: .*forbidden/);
    expect((await admin.get(nodePoolType, { name: poolName })).spec.template).toEqual(bad);
  });

  it('works for a pool operator: it reads the stored templates and writes the last good one back', async () => {
    const operator = await bindUser('pool-operator');
    let printed = '';
    await eventually(
      'the pool operator to roll the pool back',
      async () => {
        try {
          printed = await rollbackAs(operator);
          return true;
        } catch (error) {
          // Until the aggregation controller has copied every rule into the role.
          if (!/^not allowed: /.test((error as Error).message)) throw error;
          return false;
        }
      },
      30_000,
    ).catch(async (error: unknown) => {
      // Say what the apiserver last said.
      throw new Error(
        `${(error as Error).message}; last refusal: ${await rollbackAs(operator).catch((e: unknown) => (e as Error).message)}`,
      );
    });
    expect(printed).toContain(
      `nodepool.nodes.kok.dev/${poolName} rolled back: spec.template is revision ${templateRevision(good)} again`,
    );
    expect((await admin.get(nodePoolType, { name: poolName })).spec.template).toEqual(good);
  });
});
