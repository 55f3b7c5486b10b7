/**
 * The host as the agent changes it: the artifact store, the journal of owed
 * service actions, the inventory of what the agent put there, the service
 * manager, and the host variables commands and files are expanded with.
 * What the agent remembers of the host between passes lives here too.
 */
import type { Logger } from 'pino';
import type { ArtifactStore, InstallMethod } from '../artifact-store.ts';
import type { DesiredComponent } from '../desired-state.ts';
import type { HostExecution } from '../host-execution.ts';
import type { HostInventory } from '../host-inventory.ts';
import { withoutComponent, withoutFile } from '../host-inventory.ts';
import type { HostPaths } from '../host-paths.ts';
import { expandHostVariables } from '../host-paths.ts';
import type { Journal } from '../journal.ts';
import { withoutPendingAction } from '../journal.ts';
import type { ServiceDefinition, ServiceManager } from '../service-manager.ts';

export interface AgentHostParts {
  readonly machineName: string;
  readonly paths: HostPaths;
  readonly store: ArtifactStore;
  readonly journal: Journal;
  readonly inventory: HostInventory;
  readonly services: ServiceManager;
  /** Where host commands run, and what the host calls the root. */
  readonly execution: HostExecution;
  readonly log: Logger;
}

export class AgentHost implements AgentHostParts {
  readonly machineName: string;
  readonly paths: HostPaths;
  readonly store: ArtifactStore;
  readonly journal: Journal;
  readonly inventory: HostInventory;
  readonly services: ServiceManager;
  readonly execution: HostExecution;
  readonly log: Logger;
  /** sha256 of each file as the agent last wrote or verified it: a later difference is drift. */
  readonly lastWritten = new Map<string, string>();
  /** Services this agent process has started at least once. */
  readonly startedOnce = new Set<string>();
  /** The Machine's address as last seen: `$(KOK_NODE_IP)` in commands and files. */
  nodeIP: string | undefined;

  constructor(parts: AgentHostParts) {
    this.machineName = parts.machineName;
    this.paths = parts.paths;
    this.store = parts.store;
    this.journal = parts.journal;
    this.inventory = parts.inventory;
    this.services = parts.services;
    this.execution = parts.execution;
    this.log = parts.log;
  }

  expand(text: string): string {
    return expandHostVariables(text, {
      root: this.execution.rootOnHost,
      nodeName: this.machineName,
      nodeIP: this.nodeIP,
    });
  }

  expandInstall(install: InstallMethod): InstallMethod {
    return install.importCommand
      ? { ...install, importCommand: install.importCommand.map((a) => this.expand(a)) }
      : install;
  }

  /** How the service manager runs the component's service; throws when it cannot. */
  serviceDefinition(component: DesiredComponent): ServiceDefinition {
    const service = component.service;
    if (!service) throw new Error(`component ${component.name} has no service`);
    if (service.type === 'Systemd' && this.services.kind !== 'systemd')
      throw new Error(
        `component ${component.name} runs as systemd unit ${service.unit ?? ''}, but this agent uses the built-in supervisor (--service-manager=systemd to use systemd)`,
      );
    const expand = (text: string) => this.expand(text);
    return {
      name: component.name,
      unit: service.unit,
      command: service.command?.map(expand),
      env: {
        KOK_ROOT: this.expand('$(KOK_ROOT)'),
        KOK_NODE_NAME: this.machineName,
        ...(this.nodeIP === undefined ? {} : { KOK_NODE_IP: this.nodeIP }),
      },
    };
  }

  /** The definition where there is one, else enough to find (and stop) the service by name and unit. */
  serviceDefinitionOrName(component: DesiredComponent): ServiceDefinition {
    try {
      return this.serviceDefinition(component);
    } catch {
      return { name: component.name, unit: component.service?.unit };
    }
  }

  /** Nothing of the component is active any more: no service owed, no record. */
  async forgetComponent(name: string): Promise<void> {
    await this.journal.update((s) => withoutPendingAction(s, name));
    await this.inventory.update((s) => withoutComponent(s, name));
    this.startedOnce.delete(name);
  }

  async forgetFile(path: string): Promise<void> {
    await this.inventory.update((s) => withoutFile(s, path));
    this.lastWritten.delete(path);
  }
}
