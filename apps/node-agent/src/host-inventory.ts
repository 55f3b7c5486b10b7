/**
 * What the agent has put on the host, kept in its state directory: each
 * component (with the service and install-path link it set up for it) and
 * each file it wrote (with the sha256 of what it wrote). When the Machine
 * spec stops naming one, this is how the agent knows what to stop and what
 * it may delete: a file it never wrote is not in here, so it is never
 * deleted. Each component's dataPaths are kept here too, past its removal,
 * for the day the host leaves the cluster.
 *
 * A component is recorded on every pass it is desired, before anything of
 * it is switched on; a file before it is written (both contents listed while
 * the write is under way, so a kill in between still matches whatever the
 * file holds) and again after. An entry goes only once its removal is done,
 * so a SIGKILL anywhere leaves the entry and the next pass finishes.
 */
import { JsonStateFile } from './state-file.ts';
import type { DesiredComponent, DesiredFile } from './desired-state.ts';

export interface InventoryComponent {
  /** Whether the component runs a service. */
  readonly service: boolean;
  /** The host's systemd unit it runs as (a Systemd service); absent: a service the agent defined itself. */
  readonly unit?: string | undefined;
  /** The host path the agent linked to the component's `current` version. */
  readonly installPath?: string | undefined;
}

export interface InventoryFile {
  /** sha256 of each content the agent wrote there that the file may hold now (one, or two mid-write). */
  readonly sha256: readonly string[];
  /** The service action a change of the file asked for, owed again when it is deleted. */
  readonly onChange?: DesiredFile['onChange'];
}

export interface Inventory {
  readonly components: Readonly<Record<string, InventoryComponent>>;
  readonly files: Readonly<Record<string, InventoryFile>>;
  /**
   * Each component's dataPaths as last desired, kept after the component is
   * removed (its data stays until then): what a leaving host deletes.
   */
  readonly dataPaths?: Readonly<Record<string, readonly string[]>>;
}

export const EMPTY_INVENTORY: Inventory = { components: {}, files: {} };

/** Every desired component recorded as the spec describes it now. Pure. */
export function withComponents(inventory: Inventory, desired: readonly DesiredComponent[]): Inventory {
  const components = { ...inventory.components };
  const dataPaths = { ...inventory.dataPaths };
  for (const c of desired) {
    components[c.name] = {
      service: c.service !== undefined,
      ...(c.service?.unit ? { unit: c.service.unit } : {}),
      ...(c.install.path ? { installPath: c.install.path } : {}),
    };
    if (c.dataPaths?.length) dataPaths[c.name] = c.dataPaths;
    else delete dataPaths[c.name];
  }
  return { ...inventory, components, ...(Object.keys(dataPaths).length ? { dataPaths } : {}) };
}

/** The host's data is gone: nothing left to delete. Pure. */
export function withoutDataPaths(inventory: Inventory): Inventory {
  const { dataPaths: _removed, ...rest } = inventory;
  return rest;
}

export function withoutComponent(inventory: Inventory, name: string): Inventory {
  const { [name]: _removed, ...components } = inventory.components;
  return { ...inventory, components };
}

/** Before a write: the new content joins what the file may hold. Pure. */
export function withFileBeingWritten(inventory: Inventory, file: DesiredFile): Inventory {
  const known = inventory.files[file.path]?.sha256 ?? [];
  return withFile(inventory, file, known.includes(file.sha256) ? known : [...known, file.sha256]);
}

/** After a write: the file holds exactly what was written. Pure. */
export function withFileWritten(inventory: Inventory, file: DesiredFile): Inventory {
  return withFile(inventory, file, [file.sha256]);
}

export function withoutFile(inventory: Inventory, path: string): Inventory {
  const { [path]: _removed, ...files } = inventory.files;
  return { ...inventory, files };
}

/**
 * A recorded file's onChange follows the spec while the spec names it, so a
 * deletion owes the action the pool's disruptionPolicy asked for last. Pure.
 */
export function withCurrentOnChange(inventory: Inventory, desired: readonly DesiredFile[]): Inventory {
  let next = inventory;
  for (const file of desired) {
    const known = next.files[file.path];
    if (known && JSON.stringify(known.onChange) !== JSON.stringify(file.onChange))
      next = withFile(next, file, known.sha256);
  }
  return next;
}

function withFile(inventory: Inventory, file: DesiredFile, sha256: readonly string[]): Inventory {
  const entry: InventoryFile = { sha256, ...(file.onChange ? { onChange: file.onChange } : {}) };
  return { ...inventory, files: { ...inventory.files, [file.path]: entry } };
}

/** The inventory file in the agent's state directory (see state-file.ts). */
export class HostInventory extends JsonStateFile<Inventory> {
  constructor(stateDir: string) {
    super(stateDir, 'inventory.json', EMPTY_INVENTORY, (parsed) => ({
      components: parsed.components ?? {},
      files: parsed.files ?? {},
      ...(parsed.dataPaths ? { dataPaths: parsed.dataPaths } : {}),
    }));
  }
}
