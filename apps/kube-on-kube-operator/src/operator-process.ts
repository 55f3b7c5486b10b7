// The operator as a child process (`node src/main.ts`), for tests and benchmarks; not used by the operator itself.
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const appDir = join(dirname(fileURLToPath(import.meta.url)), '..');

export interface OperatorProcess {
  child: ChildProcess;
  /** Its JSON log lines so far. */
  lines: Record<string, unknown>[];
  exited: Promise<number | null>;
}

/** Starts `node src/main.ts` with `args` (plus --kubeconfig); resolves once it logs `running`. */
export async function startOperatorProcess(
  kubeconfigPath: string,
  args: readonly string[],
  timeoutMs = 30_000,
): Promise<OperatorProcess> {
  const child = spawn(process.execPath, ['src/main.ts', `--kubeconfig=${kubeconfigPath}`, ...args], {
    cwd: appDir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Record<string, unknown>[] = [];
  let pending = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    pending += chunk.toString();
    const parts = pending.split('\n');
    pending = parts.pop() ?? '';
    for (const line of parts.filter(Boolean)) {
      try {
        lines.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        lines.push({ msg: line });
      }
    }
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  const deadline = Date.now() + timeoutMs;
  while (!lines.some((l) => l.msg === 'running')) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the operator did not start: exit ${child.exitCode}\n${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, lines, exited };
}
