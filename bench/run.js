// npm run bench -- <name> [args]: runs bench/src/<name>.ts, which prints one JSON line last.
import { readdirSync } from 'node:fs';
const available = readdirSync(new URL('./src/', import.meta.url))
  .filter((file) => file.endsWith('.bench.ts'))
  .map((file) => file.replace(/\.bench\.ts$/, ''));
const [name, ...args] = process.argv.slice(2);
if (!name || !available.includes(name)) {
  console.error(`usage: npm run bench -- <name> [args]\navailable: ${available.join(', ')}`);
  process.exit(2);
}
process.argv = [process.argv[0] ?? 'node', name, ...args];
await import(`./src/${name}.bench.ts`);
