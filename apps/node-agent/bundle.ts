/**
 * Builds the node agent into one self-contained ES module, the form it ships
 * and runs in. Run from source, Node.js strips the types of ~100 modules at
 * start-up with a WebAssembly compiler that stays resident; the bundle needs
 * neither that nor node_modules, and costs a host about 40 MiB less.
 *
 * Usage: node apps/node-agent/bundle.ts [out-file]
 * (default dist/node-agent/node-agent.mjs under the repository root).
 */
import { mkdirSync, renameSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'rolldown';

const ENTRY = fileURLToPath(new URL('./src/main.ts', import.meta.url));
const REPOSITORY = fileURLToPath(new URL('../../', import.meta.url));
export const DEFAULT_BUNDLE = resolve(REPOSITORY, 'dist/node-agent/node-agent.mjs');

export async function bundleNodeAgent(outFile: string = DEFAULT_BUNDLE): Promise<string> {
  mkdirSync(dirname(outFile), { recursive: true });
  await build({
    input: ENTRY,
    platform: 'node',
    tsconfig: resolve(REPOSITORY, 'tsconfig.base.json'),
    logLevel: 'warn',
    // Whitespace and dead code go; names stay, so stack traces in logs still read.
    output: { file: outFile, format: 'esm', minify: { compress: true, mangle: false, codegen: true } },
  });
  return outFile;
}

let shipped: Promise<string> | undefined;

/**
 * The agent's command line as it ships: `node <bundle>`, the bundle built
 * from the sources once per process. Tests, benchmarks and the demo start
 * agents with it. Concurrent builders write aside and rename, so no agent
 * ever starts from a half-written file.
 */
export async function nodeAgentCommand(): Promise<string[]> {
  shipped ??= bundleNodeAgent(`${DEFAULT_BUNDLE}.${process.pid}.tmp`).then((built) => {
    renameSync(built, DEFAULT_BUNDLE);
    return DEFAULT_BUNDLE;
  });
  return [process.execPath, await shipped];
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = await bundleNodeAgent(process.argv[2] ? resolve(process.argv[2]) : DEFAULT_BUNDLE);
  process.stdout.write(`${out}\n`);
}
