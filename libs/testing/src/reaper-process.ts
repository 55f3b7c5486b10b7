// A tiny watchdog process. The control plane that spawned it writes the process
// groups and directories it owns to our stdin; when that pipe closes without a
// "release" line — the owner exited, crashed or was SIGKILLed — we kill the
// groups and delete the directories, so no etcd or apiserver outlives a test run.
import { rmSync } from 'node:fs';
import { createInterface } from 'node:readline';

const groups = new Set<number>();
const dirs = new Set<string>();
let released = false;

const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  const [verb, value = ''] = line.split(' ', 2);
  if (verb === 'group') groups.add(Number(value));
  else if (verb === 'ungroup') groups.delete(Number(value));
  else if (verb === 'dir') dirs.add(value);
  else if (verb === 'release') released = true;
});
lines.on('close', () => {
  if (released) process.exit(0);
  for (const group of groups) signal(group, 'SIGKILL');
  // Give the kernel a moment to release files held by the killed processes.
  setTimeout(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  }, 200);
});
for (const name of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(name, () => undefined);

function signal(group: number, name: NodeJS.Signals) {
  try {
    process.kill(-group, name);
  } catch {
    // already gone
  }
}
