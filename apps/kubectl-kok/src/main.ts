#!/usr/bin/env node
/**
 * kubectl-kok: the kubectl plugin for SREs (`kubectl kok …`). kubectl runs it
 * with the words after `kok`; see `kubectl kok --help`.
 */
import { runCli } from './cli.ts';

const interrupted = new AbortController();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => interrupted.abort());
}

const exitCode = await runCli(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  now: () => new Date(),
  isTty: process.stdout.isTTY === true,
  signal: interrupted.signal,
});
process.exitCode = exitCode;
