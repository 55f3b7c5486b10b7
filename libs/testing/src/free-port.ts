import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** Where Linux takes the local ports of outgoing connections from (its defaults when unreadable). */
export function ephemeralPortRange(): { low: number; high: number } {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')
      .trim()
      .split(/\s+/)
      .map(Number);
    if (low && high && low <= high) return { low, high };
  } catch {
    // Not Linux, or no /proc: assume the defaults.
  }
  return { low: 32768, high: 60999 };
}

/** Listening ports are picked above the well-known and registered-service crowd, below the ephemeral range. */
const LOWEST_PICKED_PORT = 15000;

/**
 * Ports this process handed out lately. Until its server binds it, a picked port
 * still looks free, and one control plane picks several before starting any.
 */
const recentlyPicked = new Map<number, number>();
const PICKED_PORT_HELD_MS = 10 * 60_000;

function pickedLately(port: number, now: number): boolean {
  for (const [picked, at] of recentlyPicked) if (now - at > PICKED_PORT_HELD_MS) recentlyPicked.delete(picked);
  return recentlyPicked.has(port);
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * A TCP port on 127.0.0.1 that was free a moment ago, for a server started
 * soon after. It is picked outside the ephemeral range: a port the kernel
 * handed out (port 0) can be given again to any outgoing connection (the
 * apiserver's to etcd, a download, a keep-alive client) before our server
 * binds it, and a port outside that range can only be taken by another listener.
 */
export async function freePort(): Promise<number> {
  const { low } = ephemeralPortRange();
  const span = low - LOWEST_PICKED_PORT;
  if (span > 1000) {
    for (let attempt = 0; attempt < 50; attempt++) {
      const port = LOWEST_PICKED_PORT + Math.floor(Math.random() * span);
      if (pickedLately(port, Date.now()) || !(await canListen(port))) continue;
      if (pickedLately(port, Date.now())) continue; // picked by a concurrent call while this one listened
      recentlyPicked.set(port, Date.now());
      return port;
    }
  }
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolvePort(address.port);
        else reject(new Error('could not allocate a loopback port'));
      });
    });
  });
}
