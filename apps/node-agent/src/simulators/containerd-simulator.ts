/**
 * SIMULATOR, not containerd: a stand-in daemon for tests and demos. It
 * answers GET /version on a unix socket; `ctr-simulator` mode is the client
 * a health check runs (exit 0 when the daemon answers).
 *
 *   containerd-simulator.ts --version 1.7.22 --address <socket>
 *   containerd-simulator.ts --ctr --address <socket>
 */
import { mkdirSync, rmSync } from 'node:fs';
import { createServer, request } from 'node:http';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    version: { type: 'string', default: '0.0.0' },
    address: { type: 'string' },
    ctr: { type: 'boolean', default: false },
  },
  allowPositionals: true,
});
const address = values.address;
if (!address) {
  console.error('containerd-simulator: --address is required');
  process.exit(2);
}

if (values.ctr) {
  const req = request({ socketPath: address, path: '/version', timeout: 2000 }, (response) => {
    let body = '';
    response.on('data', (chunk: Buffer) => (body += chunk.toString()));
    response.on('end', () => {
      console.log(body);
      process.exit(response.statusCode === 200 ? 0 : 1);
    });
  });
  req.on('error', (error) => {
    console.error(`ctr-simulator: ${error.message}`);
    process.exit(1);
  });
  req.end();
} else {
  mkdirSync(dirname(address), { recursive: true });
  rmSync(address, { force: true });
  const server = createServer((_, response) => response.writeHead(200).end(values.version));
  server.listen(address, () => console.log(`containerd-simulator ${values.version} listening on ${address}`));
  process.on('SIGHUP', () => console.log('SIGHUP: config reloaded'));
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}
