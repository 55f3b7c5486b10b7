/**
 * A container that stops as kube-apiserver does with --shutdown-delay-duration: on SIGTERM it keeps
 * serving for SHUTDOWN_DELAY_MS, its /readyz failing, then closes its listener and exits. Listens on
 * $POD_IP:$PORT (default 8080).
 */
import { createServer } from 'node:http';

const delayMs = Number(process.env['SHUTDOWN_DELAY_MS'] ?? '0');
let terminating = false;

const server = createServer((request, response) => {
  if (request.url === '/readyz' && terminating) response.writeHead(503).end('shutting down');
  else response.end('ok');
});
server.listen(Number(process.env['PORT'] ?? '8080'), process.env['POD_IP']);

process.on('SIGTERM', () => {
  terminating = true;
  setTimeout(() => {
    server.close();
    server.closeAllConnections();
    process.exit(0);
  }, delayMs);
});
