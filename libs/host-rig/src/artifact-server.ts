/**
 * Serves a directory of artifacts over HTTP on the rig's gateway, where the
 * node-agents in the hosts' network namespaces download them (with the
 * sha256 the Component catalog promises).
 */
import { createReadStream, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, join } from 'node:path';

export interface ArtifactServer {
  /** http://<address>:<port>/<file name> */
  urlOf(file: string): string;
  close(): Promise<void>;
}

export async function serveArtifacts(dir: string, address: string): Promise<ArtifactServer> {
  const server = createServer((request, response) => {
    const name = basename(decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname));
    const path = join(dir, name);
    let size: number;
    try {
      size = statSync(path).size;
    } catch {
      response.writeHead(404).end(`no artifact ${name}\n`);
      return;
    }
    response.writeHead(200, { 'content-length': size, 'content-type': 'application/octet-stream' });
    createReadStream(path).pipe(response);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, address, resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    urlOf: (file) => `http://${address}:${port}/${encodeURIComponent(file)}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
