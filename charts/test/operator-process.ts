import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { sharedKubeconfigPath } from '@kok/testing/vitest';
import { parse, stringify } from 'yaml';
import { kubectl, repositoryRoot } from './helm.ts';

/** A kubeconfig that authenticates as a ServiceAccount with a fresh bound token. */
export async function serviceAccountKubeconfig(namespace: string, serviceAccount: string): Promise<string> {
  const token = await kubectl('create', 'token', serviceAccount, '-n', namespace, '--duration', '1h');
  if (token.code !== 0) throw new Error(`kubectl create token failed: ${token.stderr}`);
  const config = parse(readFileSync(sharedKubeconfigPath(), 'utf8'));
  config.users = [{ name: serviceAccount, user: { token: token.stdout.trim() } }];
  for (const context of config.contexts) context.context.user = serviceAccount;
  const path = join(tmpdir(), `kok-${namespace}-${serviceAccount}.kubeconfig`);
  writeFileSync(path, stringify(config), { mode: 0o600 });
  return path;
}

export function freePort(): Promise<number> {
  return new Promise((resolvePort) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolvePort(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** An operator app run as a process, its output kept for assertions. */
export class OperatorProcess {
  readonly child: ChildProcess;
  output = '';

  constructor(app: string, args: string[]) {
    this.child = spawn(process.execPath, [join(repositoryRoot, 'apps', app, 'src/main.ts'), ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    this.child.stderr?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
  }

  /** Log lines in which the apiserver refused the operator. */
  forbidden(): string[] {
    return this.output.split('\n').filter((line) => /forbidden|\b403\b/i.test(line));
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolveExit) => this.child.once('exit', resolveExit));
    this.child.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
    this.child.kill('SIGKILL');
  }
}
