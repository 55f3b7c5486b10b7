/**
 * What the host must look like, resolved from the Machine spec through the
 * Component catalog and the pool's disruption policy. Pure.
 */
import type { Component, Machine, NodePool } from '@kok/api';
import { sha256Of } from './atomic-file.ts';
import type { Artifact, InstallMethod } from './artifact-store.ts';
import type { ServiceAction } from './journal.ts';

export type DisruptionAction = 'None' | 'Reload' | 'Restart' | 'Drain';
type ComponentSpec = Component['spec'];

export interface DesiredComponent {
  readonly name: string;
  readonly version: string;
  readonly artifact: Artifact;
  readonly install: InstallMethod;
  readonly service?: ComponentSpec['service'];
  readonly healthCheck?: ComponentSpec['healthCheck'];
  readonly versionCheck?: ComponentSpec['versionCheck'];
  /** What the software keeps on the host, deleted when the host leaves the cluster. */
  readonly dataPaths?: readonly string[];
  /** What a change of version asks of its service. */
  readonly onChange: ServiceAction | undefined;
}

export interface DesiredFile {
  readonly path: string;
  readonly content: string;
  readonly sha256: string;
  readonly mode: number;
  /** The content comes from a Secret: it is not published, not even as a plain hash. */
  readonly secret: boolean;
  /** The service action a change of this file asks for. */
  readonly onChange: { readonly component: string; readonly action: ServiceAction } | undefined;
}

export interface DesiredState {
  readonly revision: string | undefined;
  readonly components: readonly DesiredComponent[];
  readonly files: readonly DesiredFile[];
  readonly restartGeneration: number | undefined;
  /** The one component restartGeneration restarts; undefined: every service. */
  readonly restartComponent: string | undefined;
  /** The one component reinstallGeneration reinstalls; undefined: every component. */
  readonly reinstallComponent: string | undefined;
  /** Why some of the spec cannot be converged (a person must fix the spec or the catalog). */
  readonly problems: readonly { readonly reason: string; readonly message: string }[];
}

type DisruptionPolicy = NonNullable<NodePool['spec']['disruptionPolicy']>;
type FileSpec = NonNullable<Machine['spec']['files']>[number];

/** The content of a file given by secretRef or configMapRef, or why there is none. */
export type FileSourceResult =
  { readonly content: string } | { readonly reason: string; readonly message: string };
export type FileSourceLookup = (file: FileSpec) => FileSourceResult;

/**
 * Component version changes default to Restart (a new binary runs only after
 * a restart); file changes default to nothing on the host. Drain is the
 * node-operator's to perform before it hands out the revision, so on the host
 * it means "restart" for a component and "restart the named component" for a
 * file.
 */
export function serviceActionFor(action: DisruptionAction | undefined): ServiceAction | undefined {
  if (action === 'Reload') return 'reload';
  if (action === 'None') return undefined;
  return 'restart';
}

export function desiredState(
  machine: Machine,
  catalog: ReadonlyMap<string, Component>,
  policy: DisruptionPolicy | undefined,
  /** Resolves secretRef / configMapRef. Default: none (such files are reported FileSourceUnsupported). */
  lookupFileSource?: FileSourceLookup,
  /** Expands the host variables in a file's content (desired hashes are of what lands on disk). Default: none. */
  expand: (content: string) => string = (content) => content,
): DesiredState {
  const problems: { reason: string; message: string }[] = [];
  const components: DesiredComponent[] = [];
  for (const ref of machine.spec?.components ?? []) {
    const component = catalog.get(ref.name);
    if (!component) {
      problems.push({
        reason: 'ComponentNotFound',
        message: `Component "${ref.name}" is not in the catalog: create it or remove it from the Machine`,
      });
      continue;
    }
    const entry = component.spec.versions.find((v) => v.version === ref.version);
    if (!entry) {
      const known = component.spec.versions.map((v) => v.version).join(', ');
      problems.push({
        reason: 'VersionNotFound',
        message: `Component "${ref.name}" lists no version ${ref.version} (it has ${known})`,
      });
      continue;
    }
    const listed = policy?.components?.find((c) => c.name === ref.name)?.action;
    components.push({
      name: ref.name,
      version: ref.version,
      artifact: entry.artifact,
      install: component.spec.install,
      service: component.spec.service,
      healthCheck: component.spec.healthCheck,
      ...(component.spec.versionCheck ? { versionCheck: component.spec.versionCheck } : {}),
      ...(component.spec.dataPaths?.length ? { dataPaths: component.spec.dataPaths } : {}),
      onChange: component.spec.service ? serviceActionFor(listed ?? 'Restart') : undefined,
    });
  }
  const files: DesiredFile[] = [];
  for (const file of machine.spec?.files ?? []) {
    let content = file.content;
    if (content === undefined) {
      const found: FileSourceResult = lookupFileSource
        ? lookupFileSource(file)
        : {
            reason: 'FileSourceUnsupported',
            message: `file ${file.path}: secretRef and configMapRef cannot be read here; inline the content`,
          };
      if (!('content' in found)) {
        problems.push(found);
        continue;
      }
      content = found.content;
    }
    content = expand(content);
    const rule = policy?.files?.find((f) => f.path === file.path);
    const action = rule ? serviceActionFor(rule.action) : undefined;
    files.push({
      path: file.path,
      content,
      sha256: sha256Of(content),
      mode: file.mode ?? defaultFileMode(file),
      secret: file.secretRef !== undefined,
      onChange: action && rule?.component ? { component: rule.component, action } : undefined,
    });
  }
  return {
    revision: machine.spec?.revision,
    components,
    files,
    restartGeneration: machine.spec?.restartGeneration,
    restartComponent: machine.spec?.restartComponent,
    reinstallComponent: machine.spec?.reinstallComponent,
    problems,
  };
}

/** A Secret's content is readable by root only unless the spec says otherwise; other files by everyone. */
export function defaultFileMode(file: Pick<FileSpec, 'secretRef'>): number {
  return file.secretRef ? 0o600 : 0o644;
}

/**
 * `desired` without the files the host cannot take (`problems` by path, e.g.
 * a path that is a directory there): each becomes a problem the Machine
 * status reports, and the rest still converges.
 */
export function withoutUnwritableFiles(
  desired: DesiredState,
  problems: ReadonlyMap<string, string>,
): DesiredState {
  if (problems.size === 0) return desired;
  return {
    ...desired,
    files: desired.files.filter((f) => !problems.has(f.path)),
    problems: [
      ...desired.problems,
      ...[...problems.values()].map((message) => ({ reason: 'FilePathRefused', message })),
    ],
  };
}

/** Whether a remediation scoped to `scope` (one component, or all when undefined) covers `name`. */
export function inRemediationScope(name: string, scope: string | undefined): boolean {
  return scope === undefined || scope === name;
}
