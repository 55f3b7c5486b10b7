/**
 * `nodepool status --watch`: the status view and the rollout's ETA, redrawn
 * whenever the NodePool or a Machine changes. Objects come from list-watch
 * caches (one list, then a watch), so a 10,000-machine pool costs the
 * apiserver one list, not one per frame. On a terminal each frame replaces the
 * last and ages and the ETA are refreshed every few seconds; otherwise frames
 * are appended, only when they change.
 */
import { Informer } from '@kok/reconcile';
import { CommandError } from '../cli-errors.ts';
import type { Connection } from '../kube-connection.ts';
import { nodePoolStatusView } from '../nodepool-status.ts';
import { machineType, nodePoolType } from '../resources.ts';
import type { MachineObject, NodePoolObject } from '../resources.ts';
import { renderNodePoolStatus } from '../render/nodepool-status.ts';
import { renderRolloutEta } from '../render/rollout-eta.ts';
import { rolloutEta } from '../rollout-eta.ts';
import type { CommandIo } from './io.ts';
import { nodePoolStatus } from './nodepool-commands.ts';

/** Changes arriving within this window are drawn as one frame. */
const COALESCE_MS = 100;
/** On a terminal, redraw at least this often so ages stay true. */
const TERMINAL_REFRESH_MS = 5_000;
/** Move the cursor home and clear the screen. */
const CLEAR_SCREEN = '\x1b[H\x1b[2J';

export async function watchNodePoolStatus(
  connection: Connection,
  name: string,
  io: CommandIo,
): Promise<void> {
  // The first frame comes from plain reads, so a missing pool or CRD is reported at once and clearly.
  const first = captureOutput(io);
  await nodePoolStatus(
    connection,
    name,
    { allNamespaces: false, all: false, watch: false, resume: false, etcdSnapshot: false },
    first.io,
  );
  let last = first.text();
  io.stdout(io.isTty ? CLEAR_SCREEN + last : last);

  const pools = new Informer<NodePoolObject>({
    client: connection.client,
    type: nodePoolType,
    fieldSelector: `metadata.name=${name}`,
  });
  const machines = new Informer<MachineObject>({ client: connection.client, type: machineType });
  let pending: NodeJS.Timeout | undefined;
  let deleted = false;
  const stopped = Promise.withResolvers<void>();

  const draw = (force: boolean) => {
    pending = undefined;
    if (!pools.hasSynced() || !machines.hasSynced()) return;
    const pool = pools.getByName(undefined, name);
    if (!pool) {
      deleted = true;
      stopped.resolve();
      return;
    }
    const now = io.now();
    const members = machines.list();
    // The ETA is simulated afresh on every frame, at the pace of the upgrades observed so far.
    const text =
      renderNodePoolStatus(nodePoolStatusView(pool, members), now) +
      renderRolloutEta(rolloutEta(pool, members, now), now);
    if (text === last && !force) return;
    last = text;
    io.stdout(io.isTty ? CLEAR_SCREEN + text : '\n' + text);
  };
  const schedule = () => {
    pending ??= setTimeout(() => draw(false), COALESCE_MS);
  };
  const handler = { onAdd: schedule, onUpdate: schedule, onDelete: schedule };
  pools.addEventHandler(handler);
  machines.addEventHandler(handler);
  const refresh = io.isTty ? setInterval(() => draw(true), TERMINAL_REFRESH_MS) : undefined;
  const onAbort = () => stopped.resolve();
  io.signal.addEventListener('abort', onAbort, { once: true });

  pools.start();
  machines.start();
  try {
    await stopped.promise;
  } finally {
    io.signal.removeEventListener('abort', onAbort);
    clearTimeout(pending);
    clearInterval(refresh);
    await Promise.all([pools.stop(), machines.stop()]);
    connection.client.close();
  }
  if (deleted) throw new CommandError(`NodePool "${name}" was deleted`);
}

/** A CommandIo that keeps stdout, to compare frames. */
function captureOutput(io: CommandIo): { io: CommandIo; text(): string } {
  let text = '';
  return {
    io: { ...io, stdout: (chunk) => (text += chunk) },
    text: () => text,
  };
}
