// The node-operator chart's guardrails, applied to a real apiserver: the
// admission policies refuse what they say with a message that says what to do
// and let the repository's own host fixtures through, and the user roles grant
// exactly what they say.
import { AuthorizationV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { sharedKubeConfig, uniqueName } from '@kok/testing/vitest';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { chartsDir, helm, kubectl } from './helm.ts';

const chart = join(chartsDir, 'node-operator');
const group = 'nodes.kok.dev';
const version = 'v1alpha1';
const POOL_LABEL = 'nodes.kok.dev/pool';
const custom = () => sharedKubeConfig().makeApiClient(CustomObjectsApi);

interface Rendered {
  kind: string;
  metadata: { name: string };
  spec?: Record<string, unknown>;
}

const applied: string[] = [];

async function kubectlOrThrow(...args: string[]): Promise<string> {
  const result = await kubectl(...args);
  if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${result.stderr}`);
  return result.stdout;
}

async function applyObjects(objects: readonly unknown[]): Promise<void> {
  const file = join(tmpdir(), `${uniqueName('kok-guardrails')}.json`);
  writeFileSync(file, JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }));
  try {
    await kubectlOrThrow('apply', '-f', file);
  } finally {
    rmSync(file, { force: true });
  }
}

/** The chart's templates rendered with `sets`, as objects. */
async function render(release: string, template: string, sets: readonly string[]): Promise<Rendered[]> {
  const result = await helm(
    'template',
    release,
    chart,
    '--show-only',
    `templates/${template}`,
    ...sets.flatMap((set) => ['--set', set]),
  );
  if (result.code !== 0) throw new Error(result.stderr);
  return parseAllDocuments(result.stdout)
    .map((document) => document.toJS() as Rendered | null)
    .filter((object): object is Rendered => object !== null);
}

/**
 * Applies the chart's policies rendered with `sets`. The apiserver is shared
 * with the other chart tests, so each binding is narrowed (here, not in the
 * chart) to objects labelled `scope`: only this test's objects meet them.
 */
async function applyPolicies(sets: readonly string[], scope: string): Promise<void> {
  const objects = await render(uniqueName('guard'), 'validating-admission-policies.yaml', sets);
  for (const object of objects) {
    if (object.kind === 'ValidatingAdmissionPolicyBinding')
      object.spec = { ...object.spec, matchResources: { objectSelector: { matchLabels: { scope } } } };
    applied.push(`${object.kind.toLowerCase()}/${object.metadata.name}`);
  }
  await applyObjects(objects);
}

afterAll(async () => {
  if (applied.length > 0) await kubectl('delete', '--ignore-not-found', ...applied);
});

beforeAll(async () => {
  // The CRDs, as `helm install` would put them (another test may have already).
  await kubectlOrThrow('apply', '--server-side', '--force-conflicts', '-f', join(chart, 'crds'));
  await kubectlOrThrow('wait', '--for=condition=Established', '--timeout=60s', '-f', join(chart, 'crds'));
});

type Plural = 'nodepools' | 'components' | 'machines';
const kinds: Record<Plural, string> = { nodepools: 'NodePool', components: 'Component', machines: 'Machine' };

/** Creates a kok object labelled `scope`; resolves to the apiserver's refusal message, or undefined if stored. */
async function create(
  plural: Plural,
  scope: string,
  name: string,
  spec: Record<string, unknown>,
): Promise<string | undefined> {
  try {
    await custom().createClusterCustomObject({
      group,
      version,
      plural,
      body: {
        apiVersion: `${group}/${version}`,
        kind: kinds[plural],
        metadata: { name, labels: { scope } },
        spec,
      },
    });
    return undefined;
  } catch (error) {
    return refusalMessage(error);
  }
}

function refusalMessage(error: unknown): string {
  const { body, message } = error as { body?: unknown; message?: string };
  const parsed = typeof body === 'string' ? (JSON.parse(body) as { message?: string }) : body;
  const text = (parsed as { message?: string } | undefined)?.message ?? message;
  if (!text) throw error;
  return text;
}

/** Policies start to apply a moment after they are stored: waits until `probe` is refused. */
async function untilRefused(probe: () => Promise<string | undefined>): Promise<string> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const refusal = await probe();
    if (refusal !== undefined) return refusal;
    if (Date.now() > deadline) throw new Error('the admission policy never started refusing');
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

const artifact = { url: 'https://artifacts.example/kubelet.tar.gz', sha256: 'a'.repeat(64) };
function component(install: Record<string, unknown>, healthCheck?: Record<string, unknown>) {
  return { versions: [{ version: '1.36.3', artifact }], install, ...(healthCheck ? { healthCheck } : {}) };
}
const execCheck = { exec: { command: ['curl', '-sf', 'http://127.0.0.1:10248/healthz'] } };
const httpCheck = { http: { url: 'http://127.0.0.1:10248/healthz' } };
function pool(files: readonly string[], selector?: Record<string, unknown>) {
  return {
    ...(selector ? { selector } : {}),
    template: { components: [], files: files.map((path) => ({ path, content: 'x' })) },
  };
}

describe('node-operator admission guardrails', () => {
  it('with default values refuse files, install paths and selectors that reach beyond the node software, and let the host fixtures through', async () => {
    const scope = uniqueName('defaults');
    await applyPolicies([], scope);
    const name = (prefix: string) => uniqueName(prefix);

    const refused = await untilRefused(() =>
      create('nodepools', scope, name('keys'), pool(['/root/.ssh/authorized_keys'])),
    );
    expect(refused).toContain('file paths outside the allowed prefixes');
    expect(refused).toContain('/root/.ssh/authorized_keys');
    expect(refused).toContain('admissionGuardrails.allowedFilePathPrefixes');
    // Each kind has a policy of its own, and each starts to apply in its own moment.
    expect(
      await untilRefused(() =>
        create('machines', scope, name('passwd'), { files: [{ path: '/etc/passwd', content: 'x' }] }),
      ),
    ).toMatch(/Machine "passwd-[0-9a-f]+": file paths outside the allowed prefixes .*: \/etc\/passwd\./);
    expect(
      await untilRefused(() =>
        create('components', scope, name('sudo'), component({ method: 'Binary', path: '/usr/bin/sudo' })),
      ),
    ).toMatch(
      /install\.path \/usr\/bin\/sudo is outside the allowed prefixes \(\/usr\/local\/, \/opt\/\).*allowedInstallPathPrefixes/,
    );
    let wide = '';
    expect(
      await untilRefused(() => {
        wide = name('wide');
        return create('nodepools', scope, wide, pool([], { matchLabels: { team: 'other' } }));
      }),
    ).toContain(`spec.selector must include matchLabels nodes.kok.dev/pool: ${wide}`);

    // What the real-host fixtures (libs/host-rig node-software.ts, e2e agent-hosts.ts) write and install.
    const fixtures = name('fixtures');
    expect(
      await create(
        'nodepools',
        scope,
        fixtures,
        pool(
          [
            '/etc/kubernetes/kubelet-config.yaml',
            '/etc/kubernetes/kubelet.kubeconfig',
            '/etc/containerd/config.toml',
            '/etc/containerd/cni-template.conflist',
            '/etc/node-problem-detector/kok-problem-monitor.json',
          ],
          { matchLabels: { [POOL_LABEL]: fixtures } },
        ),
      ),
    ).toBeUndefined();
    for (const path of [
      '/usr/local/bin/kubelet',
      '/usr/local/lib/containerd',
      '/usr/local/bin/node-problem-detector',
    ])
      expect(
        await create('components', scope, name('fixture'), component({ method: 'Archive', path }, execCheck)),
      ).toBeUndefined();
    expect(
      await create(
        'components',
        scope,
        name('image'),
        component({ method: 'Image', importCommand: ['ctr', 'import'] }),
      ),
    ).toBeUndefined();
    expect(
      await create('machines', scope, name('host'), {
        files: [{ path: '/etc/kubernetes/kubelet.conf', content: 'x' }],
      }),
    ).toBeUndefined();
  });

  it('with custom values narrow the prefixes, refuse exec health checks and leave stored objects updatable', async () => {
    const scope = uniqueName('custom');
    // Stored before the tighter rules: an exec check and a file the custom prefixes leave out.
    const stored = uniqueName('stored');
    const storedPool = uniqueName('stored');
    expect(
      await create(
        'components',
        'unguarded',
        stored,
        component({ method: 'Binary', path: '/opt/a' }, execCheck),
      ),
    ).toBeUndefined();
    expect(
      await create('nodepools', 'unguarded', storedPool, pool(['/etc/containerd/config.toml'])),
    ).toBeUndefined();
    await applyPolicies(
      [
        'admissionGuardrails.allowedFilePathPrefixes={/etc/kubernetes/}',
        'admissionGuardrails.allowedInstallPathPrefixes={/opt/}',
        'admissionGuardrails.allowExecHealthChecks=false',
      ],
      scope,
    );

    const exec = await untilRefused(() =>
      create(
        'components',
        scope,
        uniqueName('exec'),
        component({ method: 'Binary', path: '/opt/kubelet' }, execCheck),
      ),
    );
    expect(exec).toMatch(
      /exec health checks are turned off in this cluster.*healthCheck\.http.*allowExecHealthChecks/,
    );
    expect(
      await create(
        'components',
        scope,
        uniqueName('http'),
        component({ method: 'Binary', path: '/opt/kubelet' }, httpCheck),
      ),
    ).toBeUndefined();
    expect(
      await create(
        'components',
        scope,
        uniqueName('local'),
        component({ method: 'Binary', path: '/usr/local/bin/kubelet' }),
      ),
    ).toMatch(/install\.path \/usr\/local\/bin\/kubelet is outside the allowed prefixes \(\/opt\/\)/);
    expect(
      await create('nodepools', scope, uniqueName('containerd'), pool(['/etc/containerd/config.toml'])),
    ).toMatch(
      /file paths outside the allowed prefixes \(\/etc\/kubernetes\/\): \/etc\/containerd\/config\.toml\./,
    );
    expect(
      await create('nodepools', scope, uniqueName('kubelet'), pool(['/etc/kubernetes/kubelet.conf'])),
    ).toBeUndefined();

    // Moved under the rules (by their label), the stored objects still take changes that keep their offending part.
    for (const [plural, name] of [
      ['components', stored],
      ['nodepools', storedPool],
    ] as const) {
      await kubectlOrThrow('label', `${plural}.${group}`, name, `scope=${scope}`, '--overwrite');
      await kubectlOrThrow(
        'patch',
        `${plural}.${group}`,
        name,
        '--type=merge',
        '-p',
        '{"metadata":{"annotations":{"touched":"yes"}}}',
      );
    }
    const changedExec = await kubectl(
      'patch',
      `components.${group}`,
      stored,
      '--type=merge',
      '-p',
      JSON.stringify({ spec: { healthCheck: { exec: { command: ['true'] } } } }),
    );
    expect(changedExec.stderr).toContain('exec health checks are turned off');
  });

  it('let a pool operator pause, resume and change versions, and nothing else', async () => {
    const scope = uniqueName('operator');
    const prefix = uniqueName('roles');
    const user = uniqueName('operator');
    const name = uniqueName('pool');
    await applyPolicies([], scope);
    await applyObjects(await render(prefix, 'aggregated-roles.yaml', [`userRoles.namePrefix=${prefix}`]));
    applied.push(
      ...[
        'viewer',
        'pool-operator',
        'pool-operator-nodepools',
        'pool-operator-rollback',
        'catalog-admin',
        'catalog-admin-catalog',
      ].map((r) => `clusterrole/${prefix}-${r}`),
    );
    await kubectlOrThrow(
      'create',
      'clusterrolebinding',
      user,
      `--clusterrole=${prefix}-pool-operator`,
      `--user=${user}`,
    );
    applied.push(`clusterrolebinding/${user}`);
    expect(
      await create('nodepools', scope, name, {
        selector: { matchLabels: { [POOL_LABEL]: name } },
        template: {
          components: [{ name: 'kubelet', version: 'v1.36.3' }],
          files: [{ path: '/etc/kubernetes/a', content: 'a' }],
        },
      }),
    ).toBeUndefined();
    const patchAs = (spec: Record<string, unknown>, ...flags: string[]) =>
      kubectl(
        'patch',
        `nodepools.${group}`,
        name,
        '--type=merge',
        '-p',
        JSON.stringify({ spec }),
        `--as=${user}`,
        ...flags,
      );
    // A new policy binding takes a moment to reach admission: wait until a dry run of a forbidden change is
    // refused, so that no real change slips through before it (a stored change would then be allowed again).
    const policyDeadline = Date.now() + 60_000;
    while (
      !(await patchAs({ template: { files: [] } }, '--dry-run=server')).stderr.includes('you may change only')
    ) {
      if (Date.now() > policyDeadline) throw new Error('the pool-operator policy never took effect');
      await new Promise((resolve) => setTimeout(resolve, 500));
    }

    // The aggregation controller fills the role in a moment after it is stored.
    const deadline = Date.now() + 60_000;
    while ((await patchAs({ paused: true })).code !== 0) {
      if (Date.now() > deadline) throw new Error('the pool operator never got to pause the pool');
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    expect((await patchAs({ paused: false, rollout: { maxFailed: 2 } })).code).toBe(0);
    expect(
      (await patchAs({ template: { components: [{ name: 'kubelet', version: 'v1.36.4' }] } })).code,
    ).toBe(0);

    const files = await patchAs({ template: { files: [{ path: '/etc/kubernetes/a', content: 'b' }] } });
    expect(files.stderr).toContain(
      `NodePool "${name}": you may change only spec.paused, spec.rollout and the versions in spec.template.components, not spec.template.files.`,
    );
    expect(files.stderr).toContain('the verb "configure" on nodepools.nodes.kok.dev');
    const added = await patchAs({
      template: {
        components: [
          { name: 'kubelet', version: 'v1.36.4' },
          { name: 'sshd', version: '1.0.0' },
        ],
      },
    });
    expect(added.stderr).toContain('not which components spec.template.components lists');
    expect(
      (await patchAs({ selector: { matchLabels: { [POOL_LABEL]: name, team: 'x' } } })).stderr,
    ).toContain('not spec.selector');
    // The cluster admin holds every verb, "configure" too.
    expect(
      (
        await kubectl(
          'patch',
          `nodepools.${group}`,
          name,
          '--type=merge',
          '-p',
          '{"spec":{"template":{"files":[]}}}',
        )
      ).code,
    ).toBe(0);
  });
});

describe('node-operator user roles', () => {
  const resources = [
    'machines',
    'machines/status',
    'nodepools',
    'nodepools/status',
    'components',
    'remediationpolicies',
  ] as const;
  const verbs: readonly string[] = [
    'get',
    'list',
    'watch',
    'create',
    'update',
    'patch',
    'delete',
    'deletecollection',
  ];
  const read = ['get', 'list', 'watch'];
  const write = ['create', 'update', 'patch', 'delete', 'deletecollection'];
  const roles: Record<string, Record<(typeof resources)[number], readonly string[]>> = {
    viewer: {
      machines: read,
      'machines/status': read,
      nodepools: read,
      'nodepools/status': read,
      components: read,
      remediationpolicies: read,
    },
    'pool-operator': {
      machines: read,
      'machines/status': read,
      nodepools: [...read, 'update', 'patch'],
      'nodepools/status': read,
      components: read,
      remediationpolicies: read,
    },
    'catalog-admin': {
      machines: read,
      'machines/status': read,
      nodepools: read,
      'nodepools/status': read,
      components: [...read, ...write],
      remediationpolicies: [...read, ...write],
    },
  };
  const prefix = uniqueName('roles');

  beforeAll(async () => {
    await applyObjects(await render(prefix, 'aggregated-roles.yaml', [`userRoles.namePrefix=${prefix}`]));
    applied.push(
      ...[
        'viewer',
        'pool-operator',
        'pool-operator-nodepools',
        'pool-operator-rollback',
        'catalog-admin',
        'catalog-admin-catalog',
      ].map((r) => `clusterrole/${prefix}-${r}`),
    );
  });

  async function allowed(user: string, verb: string, resource: string): Promise<boolean> {
    const [plural, subresource] = resource.split('/');
    const review = await sharedKubeConfig()
      .makeApiClient(AuthorizationV1Api)
      .createSubjectAccessReview({
        body: {
          spec: { user, resourceAttributes: { group, resource: plural, subresource, verb, name: 'any' } },
        },
      });
    return review.status?.allowed === true;
  }

  async function grants(user: string): Promise<Record<string, string[]>> {
    const entries = await Promise.all(
      resources.map(async (resource) => {
        const granted = await Promise.all(
          verbs.map(async (verb) => ((await allowed(user, verb, resource)) ? verb : undefined)),
        );
        return [resource, granted.filter((verb): verb is string => verb !== undefined)] as const;
      }),
    );
    return Object.fromEntries(entries);
  }

  it.each(Object.keys(roles))('%s grants exactly its verbs on the node tier', async (role) => {
    const user = uniqueName(role);
    await kubectlOrThrow(
      'create',
      'clusterrolebinding',
      user,
      `--clusterrole=${prefix}-${role}`,
      `--user=${user}`,
    );
    applied.push(`clusterrolebinding/${user}`);
    const expected = Object.fromEntries(Object.entries(roles[role] as object).map(([r, v]) => [r, [...v]]));
    const deadline = Date.now() + 60_000;
    let actual = await grants(user);
    while (JSON.stringify(actual) !== JSON.stringify(expected) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      actual = await grants(user);
    }
    expect(actual).toEqual(expected);
    expect(await allowed(user, 'configure', 'nodepools')).toBe(false);
  });

  it('the built-in view role reads the node tier and the built-in edit role writes none of it', async () => {
    const viewer = uniqueName('view');
    const editor = uniqueName('edit');
    await kubectlOrThrow('create', 'clusterrolebinding', viewer, '--clusterrole=view', `--user=${viewer}`);
    await kubectlOrThrow('create', 'clusterrolebinding', editor, '--clusterrole=edit', `--user=${editor}`);
    applied.push(`clusterrolebinding/${viewer}`, `clusterrolebinding/${editor}`);
    const deadline = Date.now() + 60_000;
    while (!(await allowed(viewer, 'list', 'components')) && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await allowed(viewer, 'list', 'machines')).toBe(true);
    expect(await allowed(viewer, 'patch', 'nodepools')).toBe(false);
    for (const resource of resources) {
      expect(await allowed(editor, 'get', resource)).toBe(true);
      for (const verb of write)
        expect(await allowed(editor, verb, resource), `${verb} ${resource}`).toBe(false);
    }
  });
});
