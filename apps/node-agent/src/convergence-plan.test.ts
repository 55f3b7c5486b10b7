import type { MachineSpec } from '@kok/api';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ObservedComponent, ObservedHost, PlanInput, Step } from './convergence-plan.ts';
import { endsPass, fileRemovals, isDisruptive, planConvergence } from './convergence-plan.ts';
import type { DesiredComponent, DesiredFile, DesiredState } from './desired-state.ts';
import type { Inventory } from './host-inventory.ts';
import { EMPTY_INVENTORY } from './host-inventory.ts';
import { EMPTY_JOURNAL } from './journal.ts';

const component = (name: string, version: string, service = true): DesiredComponent => ({
  name,
  version,
  artifact: { url: `http://a/${name}-${version}`, sha256: 'a'.repeat(64) },
  install: { method: 'Archive', path: `/usr/local/lib/${name}` },
  service: service ? { type: 'Process', command: [name] } : undefined,
  onChange: service ? 'restart' : undefined,
});
const image = (name: string, version: string): DesiredComponent => ({
  name,
  version,
  artifact: { url: `http://a/${name}-${version}`, sha256: 'b'.repeat(64) },
  install: { method: 'Image', importCommand: ['ctr', 'images', 'import', '$(KOK_ARTIFACT)'] },
  service: undefined,
  onChange: undefined,
});
const file = (path: string, sha256: string, onChange?: DesiredFile['onChange']): DesiredFile => ({
  path,
  content: sha256,
  sha256,
  mode: 0o644,
  secret: false,
  onChange,
});
const desired = (
  components: DesiredComponent[],
  files: DesiredFile[] = [],
  restartGeneration?: number,
  restartComponent?: string,
): DesiredState => ({
  revision: 'r1',
  components,
  files,
  restartGeneration,
  restartComponent,
  reinstallComponent: undefined,
  problems: [],
});
const host = (
  components: Record<string, ObservedComponent>,
  files: Record<string, string> = {},
): ObservedHost => ({
  components: new Map(Object.entries(components)),
  files: new Map(Object.entries(files).map(([p, sha256]) => [p, { sha256, mode: 0o644 }])),
});
const summary = (steps: readonly Step[]) =>
  steps.map((s) => {
    switch (s.kind) {
      case 'reboot':
        return `reboot for ${s.generation} (boot ID ${s.bootIDBefore})`;
      case 'awaitReboot':
        return `await the reboot for ${s.generation}`;
      case 'rebootCompleted':
        return `reboot ${s.generation} completed (boot ID ${s.bootID})`;
      case 'reinstall':
        return `reinstall ${s.components.map((c) => `${c.name}@${c.version}`).join(' ')} for ${s.generation}`;
      case 'install':
      case 'activate':
        return `${s.kind} ${s.component.name}@${s.component.version}`;
      case 'writeFile':
        return `${s.drift ? 'restore' : 'write'} ${s.file.path}`;
      case 'serviceAction':
        return `${s.action} ${s.component}`;
      case 'removeComponent':
        return `remove ${s.component} (service ${s.service ? (s.service.unit ?? 'its own') : 'untouched'}, link ${s.installPath ?? 'untouched'})`;
      case 'removeFile':
        return `delete ${s.path}`;
      case 'forgetFile':
        return `forget ${s.path} (${s.kept ? 'kept' : 'gone'})`;
      default:
        return `${s.kind} ${s.component}`;
    }
  });
type TestInput = Partial<Omit<PlanInput, 'named'>> &
  Pick<PlanInput, 'desired' | 'observed'> & { alsoNamed?: { components?: string[]; files?: string[] } };
/** The spec names what is desired, plus `alsoNamed` (named but unresolved: missing from the catalog, an unreadable Secret). */
const plan = ({ alsoNamed, ...input }: TestInput) =>
  planConvergence({
    journal: EMPTY_JOURNAL,
    lastWritten: new Map(),
    inventory: EMPTY_INVENTORY,
    named: {
      components: new Set([...input.desired.components.map((c) => c.name), ...(alsoNamed?.components ?? [])]),
      files: new Set([...input.desired.files.map((f) => f.path), ...(alsoNamed?.files ?? [])]),
    },
    ...input,
  });
const recorded = (
  components: Inventory['components'],
  files: Record<string, string[] | { sha256: string[]; onChange: DesiredFile['onChange'] }> = {},
): Inventory => ({
  components,
  files: Object.fromEntries(
    Object.entries(files).map(([path, f]) => [path, Array.isArray(f) ? { sha256: f } : f]),
  ),
});
const running = (version: string): ObservedComponent => ({
  current: version,
  installed: [version],
  running: true,
});
const versions = fc.constantFrom('v1', 'v2', 'v3');
const observedComponent = fc.record({
  current: fc.option(versions, { nil: undefined }),
  installed: fc.uniqueArray(versions, { maxLength: 3 }),
  running: fc.boolean(),
});

const containerdRecord = { service: true, installPath: '/usr/local/lib/containerd' };

describe('convergence planner', () => {
  it.each([
    {
      name: 'fresh host: install, write, switch, start',
      input: plan({
        desired: desired([component('kubelet', 'v1')], [file('/etc/k', 'x')]),
        observed: host({}),
      }),
      steps: ['install kubelet@v1', 'write /etc/k', 'activate kubelet@v1', 'start kubelet'],
    },
    {
      name: 'fresh host with an image: the image is imported only once the runtime was started',
      input: plan({
        desired: desired([image('pause', '3.10'), component('containerd', 'v2')]),
        observed: host({}),
      }),
      steps: [
        'install containerd@v2',
        'activate containerd@v2',
        'start containerd',
        'install pause@3.10',
        'activate pause@3.10',
      ],
    },
    {
      name: 'a new image version next to a running runtime: import and switch, nothing restarts',
      input: plan({
        desired: desired([image('pause', '3.11'), component('containerd', 'v2')]),
        observed: host({
          pause: { current: '3.10', installed: ['3.10'], running: undefined },
          containerd: { current: 'v2', installed: ['v2'], running: true },
        }),
      }),
      steps: ['install pause@3.11', 'activate pause@3.11'],
    },
    {
      name: 'upgrade: install new, switch, restart, then collect beyond two versions',
      input: plan({
        desired: desired([component('kubelet', 'v3')]),
        observed: host({ kubelet: { current: 'v2', installed: ['v2', 'v1'], running: true } }),
      }),
      steps: ['install kubelet@v3', 'activate kubelet@v3', 'restart kubelet', 'collectGarbage kubelet'],
    },
    {
      name: 'rollback to a kept version: no download, just switch and restart',
      input: plan({
        desired: desired([component('kubelet', 'v1')]),
        observed: host({ kubelet: { current: 'v2', installed: ['v2', 'v1'], running: true } }),
      }),
      steps: ['activate kubelet@v1', 'restart kubelet'],
    },
    {
      name: 'converged host: nothing to do',
      input: plan({
        desired: desired([component('kubelet', 'v1')], [file('/etc/k', 'x')]),
        observed: host({ kubelet: { current: 'v1', installed: ['v1'], running: true } }, { '/etc/k': 'x' }),
      }),
      steps: [],
    },
    {
      name: 'a dead service is started again',
      input: plan({
        desired: desired([component('kubelet', 'v1')]),
        observed: host({ kubelet: { current: 'v1', installed: ['v1'], running: false } }),
      }),
      steps: ['start kubelet'],
    },
    {
      name: 'a file change with a Reload policy reloads its component',
      input: plan({
        desired: desired(
          [component('kubelet', 'v1')],
          [file('/etc/k', 'y', { component: 'kubelet', action: 'reload' })],
        ),
        observed: host({ kubelet: { current: 'v1', installed: ['v1'], running: true } }, { '/etc/k': 'x' }),
      }),
      steps: ['write /etc/k', 'reload kubelet'],
    },
    {
      name: 'a file changed behind the agent is drift, restored',
      input: plan({
        desired: desired([], [file('/etc/k', 'x')]),
        observed: host({}, { '/etc/k': 'tampered' }),
        lastWritten: new Map([['/etc/k', 'x']]),
      }),
      steps: ['restore /etc/k'],
    },
    {
      name: 'a journaled restart owed by a killed run is performed',
      input: plan({
        desired: desired([component('kubelet', 'v2')]),
        observed: host({ kubelet: { current: 'v2', installed: ['v2', 'v1'], running: true } }),
        journal: { pending: { kubelet: 'restart' }, touchedDirs: [] },
      }),
      steps: ['restart kubelet'],
    },
    {
      name: 'a refused artifact is not retried',
      input: plan({
        desired: desired([component('kubelet', 'v9')]),
        observed: host({ kubelet: { current: 'v2', installed: ['v2'], running: true } }),
        refused: new Map([['kubelet', 'v9']]),
      }),
      steps: [],
    },
    {
      name: 'a higher restartGeneration restarts every service',
      input: plan({
        desired: desired([component('kubelet', 'v1'), component('containerd', '1')], [], 3),
        observed: host({
          kubelet: { current: 'v1', installed: ['v1'], running: true },
          containerd: { current: '1', installed: ['1'], running: true },
        }),
        journal: { pending: {}, touchedDirs: [], restartGeneration: 2 },
      }),
      steps: ['restart kubelet', 'restart containerd'],
    },
    {
      name: 'a higher restartGeneration with restartComponent restarts that service only',
      input: plan({
        desired: desired([component('kubelet', 'v1'), component('containerd', '1')], [], 3, 'containerd'),
        observed: host({
          kubelet: { current: 'v1', installed: ['v1'], running: true },
          containerd: { current: '1', installed: ['1'], running: true },
        }),
        journal: { pending: {}, touchedDirs: [], restartGeneration: 2 },
      }),
      steps: ['restart containerd'],
    },
    {
      name: 'restartGeneration already carried out: nothing to restart',
      input: plan({
        desired: desired([component('kubelet', 'v1')], [], 3, 'kubelet'),
        observed: host({ kubelet: { current: 'v1', installed: ['v1'], running: true } }),
        journal: { pending: {}, touchedDirs: [], restartGeneration: 3 },
      }),
      steps: [],
    },
  ])('$name', ({ input, steps }) => {
    expect(summary(input.steps)).toEqual(steps);
  });

  describe('what the spec no longer names', () => {
    it.each([
      {
        name: 'a removed component: its service stopped and undefined, its links removed, nothing else',
        input: plan({
          desired: desired([component('kubelet', 'v1')]),
          observed: host({ kubelet: running('v1'), containerd: running('1') }),
          inventory: recorded({ kubelet: { service: true }, containerd: containerdRecord }),
        }),
        steps: ['remove containerd (service its own, link /usr/local/lib/containerd)'],
      },
      {
        name: 'a removal beside an upgrade: downloads first, the removal before anything switches',
        input: plan({
          desired: desired([component('kubelet', 'v2')], [file('/etc/k', 'y')]),
          observed: host({ kubelet: running('v1'), containerd: running('1') }, { '/etc/k': 'x' }),
          inventory: recorded({ containerd: containerdRecord }),
        }),
        steps: [
          'install kubelet@v2',
          'remove containerd (service its own, link /usr/local/lib/containerd)',
          'write /etc/k',
          'activate kubelet@v2',
          'restart kubelet',
        ],
      },
      {
        name: 'a removed component without a service: only its links go',
        input: plan({
          desired: desired([]),
          observed: host({ cni: { current: '1', installed: ['1', '0'], running: undefined } }),
          inventory: recorded({ cni: { service: false, installPath: '/opt/cni/bin' } }),
        }),
        steps: ['remove cni (service untouched, link /opt/cni/bin)'],
      },
      {
        name: 'a component the spec still names but the catalog lacks is left running',
        input: plan({
          desired: desired([]),
          observed: host({ containerd: running('1') }),
          inventory: recorded({ containerd: containerdRecord }),
          alsoNamed: { components: ['containerd'] },
        }),
        steps: [],
      },
      {
        name: 'killed after the service stopped: `current` is still there, so the removal runs again',
        input: plan({
          desired: desired([]),
          observed: host({ containerd: { current: '1', installed: ['1'], running: false } }),
          inventory: recorded({ containerd: containerdRecord }),
        }),
        steps: ['remove containerd (service its own, link /usr/local/lib/containerd)'],
      },
      {
        name: 'killed after the links went: nothing is active, the record is dropped',
        input: plan({
          desired: desired([]),
          observed: host({ containerd: { current: undefined, installed: ['1'], running: false } }),
          inventory: recorded({ containerd: containerdRecord }),
        }),
        steps: ['forgetComponent containerd'],
      },
      {
        name: 'a host unit and install path a desired component took over are left alone',
        input: plan({
          desired: desired([
            {
              ...component('runtime', '2'),
              install: { method: 'Archive', path: '/usr/local/lib/containerd' },
              service: { type: 'Systemd', unit: 'containerd.service' },
            },
          ]),
          observed: host({ runtime: running('2'), containerd: running('1') }),
          inventory: recorded({ containerd: { ...containerdRecord, unit: 'containerd.service' } }),
        }),
        steps: ['remove containerd (service untouched, link untouched)'],
      },
      {
        name: 'a component an older agent installed (no record): the service the agent names after it is stopped',
        input: plan({
          desired: desired([]),
          observed: host({ containerd: running('1') }),
        }),
        steps: ['remove containerd (service its own, link untouched)'],
      },
      {
        name: 'named again (a rollback): switched back to its kept version and started, no download',
        input: plan({
          desired: desired([component('containerd', '1')]),
          observed: host({ containerd: { current: undefined, installed: ['1'], running: false } }),
        }),
        steps: ['activate containerd@1', 'start containerd'],
      },
      {
        name: 'a file the agent wrote, still as it wrote it: deleted',
        input: plan({
          desired: desired([]),
          observed: host({}, { '/etc/old': 'x' }),
          inventory: recorded({}, { '/etc/old': ['x'] }),
        }),
        steps: ['delete /etc/old'],
      },
      {
        name: 'a file killed mid-write: either content is the agent’s',
        input: plan({
          desired: desired([]),
          observed: host({}, { '/etc/old': 'x' }),
          inventory: recorded({}, { '/etc/old': ['x', 'y'] }),
        }),
        steps: ['delete /etc/old'],
      },
      {
        name: 'a file changed on the host since the agent wrote it: kept, forgotten',
        input: plan({
          desired: desired([]),
          observed: host({}, { '/etc/old': 'edited' }),
          inventory: recorded({}, { '/etc/old': ['x'] }),
        }),
        steps: ['forget /etc/old (kept)'],
      },
      {
        name: 'a recorded file already gone: forgotten',
        input: plan({
          desired: desired([]),
          observed: host({}),
          inventory: recorded({}, { '/etc/old': ['x'] }),
        }),
        steps: ['forget /etc/old (gone)'],
      },
      {
        name: 'a file the agent never wrote is never touched',
        input: plan({ desired: desired([]), observed: host({}, { '/etc/admin.conf': 'x' }) }),
        steps: [],
      },
      {
        name: 'a file the spec still names but whose Secret cannot be read is kept',
        input: plan({
          desired: desired([]),
          observed: host({}, { '/etc/token': 'x' }),
          inventory: recorded({}, { '/etc/token': ['x'] }),
          alsoNamed: { files: ['/etc/token'] },
        }),
        steps: [],
      },
      {
        name: 'deleting a file owes the action its change asked for',
        input: plan({
          desired: desired([component('kubelet', 'v1')]),
          observed: host({ kubelet: running('v1') }, { '/etc/k.d/extra': 'x' }),
          inventory: recorded(
            {},
            { '/etc/k.d/extra': { sha256: ['x'], onChange: { component: 'kubelet', action: 'reload' } } },
          ),
        }),
        steps: ['delete /etc/k.d/extra', 'reload kubelet'],
      },
      {
        name: 'a service file of a removed component goes after its service stopped',
        input: plan({
          desired: desired([]),
          observed: host({ containerd: running('1') }, { '/etc/containerd/config.toml': 'x' }),
          inventory: recorded({ containerd: containerdRecord }, { '/etc/containerd/config.toml': ['x'] }),
        }),
        steps: [
          'remove containerd (service its own, link /usr/local/lib/containerd)',
          'delete /etc/containerd/config.toml',
        ],
      },
    ])('$name', ({ input, steps }) => {
      expect(summary(input.steps)).toEqual(steps);
    });

    it('counts a removal as a change of the host, dropping records alone not', () => {
      const forgetting = plan({
        desired: desired([]),
        observed: host({}),
        inventory: recorded({ containerd: containerdRecord }, { '/etc/old': ['x'] }),
      });
      expect(summary(forgetting.steps)).toEqual(['forgetComponent containerd', 'forget /etc/old (gone)']);
      expect(isDisruptive(forgetting)).toBe(false);
      const removing = plan({ desired: desired([]), observed: host({ containerd: running('1') }) });
      expect(isDisruptive(removing)).toBe(true);
    });

    const names = fc.constantFrom<string>('kubelet', 'containerd', 'cni');
    const paths = fc.constantFrom<string>('/etc/a', '/etc/b', '/etc/c');
    const contents = fc.constantFrom('x', 'y', 'z');

    it('removes only what the spec does not name, and deletes only a file that holds content the agent wrote', () => {
      fc.assert(
        fc.property(
          fc.uniqueArray(names),
          fc.dictionary(names, observedComponent),
          fc.uniqueArray(names),
          fc.uniqueArray(paths),
          fc.dictionary(paths, fc.uniqueArray(contents, { minLength: 1 })),
          fc.dictionary(paths, contents),
          (namedComponents, seen, recordedComponents, namedFiles, recordedFiles, onDisk) => {
            const result = plan({
              desired: desired([]),
              observed: host(seen, onDisk),
              inventory: recorded(
                Object.fromEntries(recordedComponents.map((n) => [n, { service: true }])),
                recordedFiles,
              ),
              alsoNamed: { components: namedComponents, files: namedFiles },
            });
            for (const step of result.steps) {
              if (step.kind === 'removeComponent' || step.kind === 'forgetComponent')
                expect(namedComponents).not.toContain(step.component);
              if (step.kind === 'removeFile' || step.kind === 'forgetFile')
                expect(namedFiles).not.toContain(step.path);
              if (step.kind === 'removeFile') expect(recordedFiles[step.path]).toContain(onDisk[step.path]);
            }
            // Whatever is active and not named goes; every record of what is not named goes.
            for (const [name, s] of Object.entries(seen))
              if (!namedComponents.includes(name) && (s.current !== undefined || s.running))
                expect(result.steps).toContainEqual(
                  expect.objectContaining({ kind: 'removeComponent', component: name }),
                );
            for (const path of Object.keys(recordedFiles))
              if (!namedFiles.includes(path))
                expect(result.steps).toContainEqual(expect.objectContaining({ path }));
          },
        ),
      );
    });
  });

  it('always installs before switching, switches before restarting, and never disrupts a converged host', () => {
    fc.assert(
      fc.property(versions, observedComponent, (want, seen) => {
        const installed = seen.current ? [...new Set([seen.current, ...seen.installed])] : seen.installed;
        const observed = host({ kubelet: { ...seen, installed } });
        const result = plan({ desired: desired([component('kubelet', want)]), observed });
        const kinds = result.steps.map((s) => s.kind);
        const at = (kind: Step['kind']) => kinds.indexOf(kind);
        if (at('activate') >= 0) {
          expect(installed.includes(want) || (at('install') >= 0 && at('install') < at('activate'))).toBe(
            true,
          );
          if (seen.current) expect(at('serviceAction')).toBeGreaterThan(at('activate'));
        }
        if (seen.current === want && seen.running) expect(isDisruptive(result)).toBe(false);
        // Applying the plan leaves the desired version current and the service running.
        const after = at('activate') >= 0 ? want : seen.current;
        const runs = seen.running || at('start') >= 0 || at('serviceAction') >= 0;
        expect(after).toBe(want);
        expect(runs).toBe(true);
      }),
    );
  });
});

describe('reboots and reinstalls', () => {
  const components = [component('kubelet', 'v1'), component('containerd', '1'), component('cni', '1', false)];
  const wanted = desired(components);
  const observedAs = (running: boolean) =>
    host({
      kubelet: { current: 'v1', installed: ['v1'], running },
      containerd: { current: '1', installed: ['1'], running },
      cni: { current: '1', installed: ['1'], running: undefined },
    });
  const asked = (
    generations: Partial<MachineSpec>,
    rebootIssued?: number,
  ): NonNullable<PlanInput['remediation']> => ({
    spec: { ...generations } as MachineSpec,
    status: undefined,
    bootID: 'boot-1',
    rebootIssued,
  });
  const rebootJournaled = (bootIDBefore: string) => ({
    ...EMPTY_JOURNAL,
    reboot: { generation: 1, bootIDBefore },
  });

  it.each([
    {
      name: 'a reboot asked comes alone, whatever else the host needs',
      input: plan({
        desired: wanted,
        observed: observedAs(false),
        remediation: asked({ rebootGeneration: 1, reinstallGeneration: 1 }),
      }),
      steps: ['reboot for 1 (boot ID boot-1)'],
      remediation: undefined,
    },
    {
      name: 'a reboot this agent issued: it waits for the host to go down, nothing else',
      input: plan({
        desired: wanted,
        observed: observedAs(false),
        journal: rebootJournaled('boot-1'),
        remediation: asked({ rebootGeneration: 1 }, 1),
      }),
      steps: ['await the reboot for 1'],
      remediation: undefined,
    },
    {
      name: 'a reboot journaled by an agent that died before the host went down is issued again',
      input: plan({
        desired: wanted,
        observed: observedAs(true),
        journal: rebootJournaled('boot-1'),
        remediation: asked({ rebootGeneration: 1 }),
      }),
      steps: ['reboot for 1 (boot ID boot-1)'],
      remediation: undefined,
    },
    {
      name: 'a reboot completed (a new boot ID): recorded first, then every stopped service started',
      input: plan({
        desired: wanted,
        observed: observedAs(false),
        journal: rebootJournaled('boot-0'),
        remediation: asked({ rebootGeneration: 1 }),
      }),
      steps: ['reboot 1 completed (boot ID boot-1)', 'start kubelet', 'start containerd'],
      remediation: 'Reboot',
    },
    {
      name: 'a reinstall asked: every component reinstalled first, then every service restarted',
      input: plan({
        desired: wanted,
        observed: observedAs(true),
        remediation: asked({ reinstallGeneration: 2 }),
      }),
      steps: ['reinstall kubelet@v1 containerd@1 cni@1 for 2', 'restart kubelet', 'restart containerd'],
      remediation: 'Reinstall',
    },
    {
      name: 'a reinstall of one component restarts only its service',
      input: plan({
        desired: { ...wanted, reinstallComponent: 'containerd' },
        observed: observedAs(true),
        remediation: asked({ reinstallGeneration: 2 }),
      }),
      steps: ['reinstall containerd@1 for 2', 'restart containerd'],
      remediation: 'Reinstall',
    },
    {
      name: 'generations already carried out: nothing to do',
      input: plan({
        desired: wanted,
        observed: observedAs(true),
        journal: { ...EMPTY_JOURNAL, rebootGeneration: 1, reinstallGeneration: 2 },
        remediation: asked({ rebootGeneration: 1, reinstallGeneration: 2 }),
      }),
      steps: [],
      remediation: undefined,
    },
  ])('$name', ({ input, steps, remediation }) => {
    expect(summary(input.steps)).toEqual(steps);
    expect(input.remediation).toBe(remediation);
  });

  it('ends the pass with the step after which the host goes down, and counts only issuing a reboot as a change', () => {
    const reboot = plan({
      desired: wanted,
      observed: observedAs(true),
      remediation: asked({ rebootGeneration: 1 }),
    });
    const waiting = plan({
      desired: wanted,
      observed: observedAs(true),
      journal: rebootJournaled('boot-1'),
      remediation: asked({ rebootGeneration: 1 }, 1),
    });
    const completed = plan({
      desired: wanted,
      observed: observedAs(true),
      journal: rebootJournaled('boot-0'),
      remediation: asked({ rebootGeneration: 1 }),
    });
    expect(reboot.steps.map(endsPass)).toEqual([true]);
    expect(isDisruptive(reboot)).toBe(true);
    expect(waiting.steps.map(endsPass)).toEqual([true]);
    expect(isDisruptive(waiting)).toBe(false);
    // The services came back by themselves: recording the reboot changes nothing on the host.
    expect(summary(completed.steps)).toEqual(['reboot 1 completed (boot ID boot-1)']);
    expect(completed.steps.map(endsPass)).toEqual([false]);
    expect(isDisruptive(completed)).toBe(false);
  });

  it('records the reinstall generation it carries out', () => {
    const reinstall = plan({
      desired: wanted,
      observed: observedAs(true),
      journal: { ...EMPTY_JOURNAL, reinstallGeneration: 1 },
      remediation: asked({ reinstallGeneration: 2 }),
    });
    expect(reinstall.reinstallGeneration).toBe(2);
    expect(isDisruptive(reinstall)).toBe(true);
  });
});

describe('fileRemovals (a leaving host names no file)', () => {
  const recorded: Inventory['files'] = {
    '/etc/a': { sha256: ['a'] },
    '/etc/b': { sha256: ['b1', 'b2'] },
    '/etc/changed': { sha256: ['c'] },
    '/etc/gone': { sha256: ['g'] },
  };
  const observed = new Map([
    ['/etc/a', { sha256: 'a', mode: 0o644 }],
    ['/etc/b', { sha256: 'b2', mode: 0o644 }],
    ['/etc/changed', { sha256: 'someone else', mode: 0o644 }],
    ['/etc/gone', { sha256: undefined, mode: undefined }],
  ]);

  it('deletes what holds a content the agent wrote, keeps what someone changed, forgets what is gone', () => {
    expect(fileRemovals(recorded, observed, new Set())).toEqual([
      { kind: 'removeFile', path: '/etc/a' },
      { kind: 'removeFile', path: '/etc/b' },
      { kind: 'forgetFile', path: '/etc/changed', kept: true },
      { kind: 'forgetFile', path: '/etc/gone', kept: false },
    ]);
  });

  it('leaves a file the spec still names', () => {
    expect(fileRemovals(recorded, observed, new Set(['/etc/a', '/etc/b', '/etc/changed']))).toEqual([
      { kind: 'forgetFile', path: '/etc/gone', kept: false },
    ]);
  });
});
