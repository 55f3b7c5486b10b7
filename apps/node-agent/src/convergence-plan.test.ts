import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ObservedComponent, ObservedHost, PlanInput, Step } from './convergence-plan.ts';
import { isDisruptive, planConvergence } from './convergence-plan.ts';
import type { DesiredComponent, DesiredFile, DesiredState } from './desired-state.ts';
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
  steps.map((s) =>
    s.kind === 'install' || s.kind === 'activate'
      ? `${s.kind} ${s.component.name}@${s.component.version}`
      : s.kind === 'writeFile'
        ? `${s.drift ? 'restore' : 'write'} ${s.file.path}`
        : s.kind === 'serviceAction'
          ? `${s.action} ${s.component}`
          : `${s.kind} ${s.component}`,
  );
const plan = (input: Partial<PlanInput> & Pick<PlanInput, 'desired' | 'observed'>) =>
  planConvergence({ journal: EMPTY_JOURNAL, lastWritten: new Map(), ...input });

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

  const versions = fc.constantFrom('v1', 'v2', 'v3');
  const observedComponent = fc.record({
    current: fc.option(versions, { nil: undefined }),
    installed: fc.uniqueArray(versions, { maxLength: 3 }),
    running: fc.boolean(),
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
