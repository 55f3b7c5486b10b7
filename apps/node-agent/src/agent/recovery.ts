/**
 * What an interrupted run left behind, cleared before the first pass changes
 * anything, and temp names that appear later (an unpack a killed agent had
 * started) swept between passes.
 */
import { removeTempLeftovers } from '../atomic-file.ts';
import type { DesiredState } from '../desired-state.ts';
import { ProcessSupervisor } from '../process-supervisor.ts';
import type { AgentHost } from './host.ts';

/** Loads the journal and inventory, removes temp leftovers, takes over running services. */
export async function recoverHost(host: AgentHost, desired: DesiredState): Promise<void> {
  const journal = await host.journal.load();
  await host.inventory.load();
  const removed = [
    ...(await host.store.removeLeftovers(desired.components.map((c) => c.name))),
    ...(await Promise.all(journal.touchedDirs.map((dir) => removeTempLeftovers(dir)))).flat(),
    // The agent's own state (journal, digest key) is written the same atomic way, so a kill can leave a temp.
    ...(await removeTempLeftovers(host.paths.stateDir)),
  ];
  if (removed.length) host.log.info({ removed }, 'removed leftovers of an interrupted run');
  if (host.services instanceof ProcessSupervisor) {
    const adopted = await host.services.adopt();
    if (adopted.length) host.log.info({ adopted }, 'took over running services');
  }
  if (Object.keys(journal.pending).length)
    host.log.info({ pending: journal.pending }, 'resuming service actions a previous run owed');
}

/**
 * Between passes no install of this agent is under way, so a temp name in the store is a leftover that
 * start-up recovery could not see yet: e.g. a `tar` a SIGKILLed agent had started, still unpacking.
 */
export async function sweepStoreLeftovers(host: AgentHost, componentNames: readonly string[]): Promise<void> {
  try {
    const removed = await host.store.removeLeftovers(componentNames);
    if (removed.length) host.log.warn({ removed }, 'removed temp leftovers that appeared after start-up');
  } catch (error) {
    host.log.warn({ err: error }, 'could not remove temp leftovers; trying again after the next pass');
  }
}
