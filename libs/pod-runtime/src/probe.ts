/** Runs a container's probe locally against the pod's address, as the kubelet would. */
import type { IntOrString, V1Container, V1Probe } from '@kubernetes/client-node';
import { execFile } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';

/** A named port (`https`) resolved through the container's ports; a number as is. */
export function resolvePort(port: IntOrString | undefined, container: V1Container): number | undefined {
  if (port === undefined) return undefined;
  if (typeof port === 'number') return port;
  if (/^\d+$/.test(port)) return Number(port);
  return container.ports?.find((p) => p.name === port)?.containerPort;
}

/** Where a probe goes, or why it cannot run: pure, so it is tested on its own. */
export type ProbeTarget =
  | { readonly kind: 'http'; readonly url: string; readonly headers: Record<string, string> }
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number }
  | { readonly kind: 'exec'; readonly command: readonly string[] }
  | { readonly kind: 'invalid'; readonly reason: string };

export function probeTarget(probe: V1Probe, container: V1Container, podIP: string): ProbeTarget {
  if (probe.httpGet) {
    const port = resolvePort(probe.httpGet.port, container);
    if (!port)
      return {
        kind: 'invalid',
        reason: `httpGet port ${String(probe.httpGet.port)} is not a container port`,
      };
    const scheme = (probe.httpGet.scheme ?? 'HTTP').toLowerCase();
    const host = probe.httpGet.host || podIP;
    const path = probe.httpGet.path?.startsWith('/') ? probe.httpGet.path : `/${probe.httpGet.path ?? ''}`;
    const headers = Object.fromEntries((probe.httpGet.httpHeaders ?? []).map((h) => [h.name, h.value]));
    return { kind: 'http', url: `${scheme}://${host}:${port}${path}`, headers };
  }
  if (probe.tcpSocket) {
    const port = resolvePort(probe.tcpSocket.port, container);
    if (!port)
      return {
        kind: 'invalid',
        reason: `tcpSocket port ${String(probe.tcpSocket.port)} is not a container port`,
      };
    return { kind: 'tcp', host: probe.tcpSocket.host || podIP, port };
  }
  if (probe.exec?.command?.length) return { kind: 'exec', command: probe.exec.command };
  return { kind: 'invalid', reason: 'the probe has no httpGet, tcpSocket or exec' };
}

/**
 * Whether the probe succeeds now: HTTP(S) status 200–399 (certificates are
 * not verified, as the kubelet does not), a TCP connect, or exit code 0.
 * `exec` runs on the host with `env`, since there is no container to enter.
 */
export async function runProbe(
  probe: V1Probe,
  container: V1Container,
  podIP: string,
  env: Readonly<Record<string, string>> = {},
): Promise<boolean> {
  const target = probeTarget(probe, container, podIP);
  const timeoutMs = (probe.timeoutSeconds ?? 1) * 1000;
  switch (target.kind) {
    case 'http':
      return new Promise((resolve) => {
        const url = new URL(target.url);
        const request = (url.protocol === 'https:' ? httpsRequest : httpRequest)(
          url,
          { method: 'GET', headers: target.headers, timeout: timeoutMs, rejectUnauthorized: false },
          (response) => {
            response.resume();
            const status = response.statusCode ?? 0;
            resolve(status >= 200 && status < 400);
          },
        );
        request.on('timeout', () => request.destroy(new Error('probe timed out')));
        request.on('error', () => resolve(false));
        request.end();
      });
    case 'tcp':
      return new Promise((resolve) => {
        const socket = connect({ host: target.host, port: target.port, timeout: timeoutMs });
        socket.on('connect', () => {
          socket.destroy();
          resolve(true);
        });
        socket.on('timeout', () => socket.destroy(new Error('probe timed out')));
        socket.on('error', () => resolve(false));
      });
    case 'exec':
      return new Promise((resolve) => {
        const [file, ...args] = target.command;
        execFile(file as string, args, { timeout: timeoutMs, env: { ...process.env, ...env } }, (error) =>
          resolve(!error),
        );
      });
    case 'invalid':
      return false;
  }
}
