/** What is on the host of what the plan looks at: versions, services, files. Reads only. */
import { modeOf, sha256OfFile } from '../atomic-file.ts';
import type { ObservedComponent, ObservedFile, ObservedHost } from '../convergence-plan.ts';
import type { DesiredState } from '../desired-state.ts';
import { hostPathProblem } from '../host-paths.ts';
import { errorMessage } from './error-message.ts';
import type { AgentHost } from './host.ts';

/** The desired components and files; with `leftovers`, also what the agent put there that is desired no more. */
export async function observeHost(
  host: AgentHost,
  desired: DesiredState,
  leftovers = false,
): Promise<ObservedHost> {
  const components = new Map<string, ObservedComponent>();
  for (const c of desired.components) {
    const running = c.service
      ? (await host.services.status(host.serviceDefinitionOrName(c))).running
      : undefined;
    components.set(c.name, {
      current: await host.store.currentVersion(c.name),
      installed: await host.store.installedVersions(c.name),
      running,
    });
  }
  const files = new Map<string, ObservedFile>();
  for (const f of desired.files) {
    const path = host.paths.host(f.path);
    files.set(f.path, { sha256: await sha256OfFile(path), mode: await modeOf(path) });
  }
  if (!leftovers) return { components, files };
  const inventory = host.inventory.state;
  const names = new Set([...Object.keys(inventory.components), ...(await host.store.componentNames())]);
  for (const name of names) {
    if (components.has(name)) continue;
    const current = await host.store.currentVersion(name);
    const recorded = inventory.components[name];
    // Kept versions of a component removed earlier are not a service to ask after on every pass.
    if (current === undefined && !recorded) continue;
    const service = recorded ? recorded.service : true;
    components.set(name, {
      current,
      installed: await host.store.installedVersions(name),
      running: service ? (await host.services.status({ name, unit: recorded?.unit })).running : undefined,
    });
  }
  for (const path of Object.keys(inventory.files)) {
    if (files.has(path)) continue;
    // A path the agent may not write through any more (a parent now leads outside the root) is not deleted either.
    const problem = await hostPathProblem(host.paths, path).catch((error: unknown) => errorMessage(error));
    const full = host.paths.host(path);
    files.set(
      path,
      problem
        ? { sha256: undefined, mode: undefined }
        : { sha256: await sha256OfFile(full), mode: await modeOf(full) },
    );
  }
  return { components, files };
}
