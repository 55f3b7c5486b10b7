import { sharedKubeConfig, sharedKubeconfigPath } from '@kok/testing/vitest';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtinTypes } from './builtin-types.ts';
import { KubeClient } from './kube-client.ts';
import { LeaderElector } from './leader-election.ts';
import { eventually, freshNamespace } from './test-support.ts';

const timing = { leaseDurationMs: 3000, renewDeadlineMs: 2000, retryPeriodMs: 300 };
let client: KubeClient;
let ns: string;

beforeAll(async () => {
  client = new KubeClient(sharedKubeConfig(), { qps: 100, burst: 200 });
  ns = await freshNamespace(client, 'election-kill');
});
afterAll(() => client?.close());

describe('leader election when the leader process is SIGKILLed', () => {
  it('lets the other candidate take over within the lease duration, and not before', async () => {
    const fixture = new URL('./fixtures/lead-until-killed.ts', import.meta.url).pathname;
    const args = [sharedKubeconfigPath(), ns, 'doomed', ...Object.values(timing).map(String)];
    const leader = spawn(process.execPath, [fixture, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolveLeading) =>
      createInterface({ input: leader.stdout }).on('line', (line) => line === 'leading' && resolveLeading()),
    );

    const successor = new LeaderElector({
      client,
      lease: { namespace: ns, name: 'managers' },
      identity: 'successor',
      ...timing,
    });
    let tookOverAt = 0;
    const stop = new AbortController();
    const campaign = successor.run(stop.signal, () => {
      tookOverAt = Date.now();
    });
    // While the leader renews, the successor must wait, however long.
    await new Promise((r) => setTimeout(r, 2 * timing.leaseDurationMs));
    expect(successor.isLeader()).toBe(false);

    // The lease runs from the leader's last renewal, which a starved leader may have made well before the kill.
    const renewedBeforeKill = Date.parse(
      String((await client.get(builtinTypes.lease, { namespace: ns, name: 'managers' })).spec?.renewTime),
    );
    const killedAt = Date.now();
    leader.kill('SIGKILL'); // no release: the lease must expire
    await eventually('successor to lead', () => tookOverAt > 0, timing.leaseDurationMs * 3);
    expect(tookOverAt - renewedBeforeKill).toBeGreaterThanOrEqual(timing.leaseDurationMs);
    // Not much later either: a few retry periods and requests on a loaded machine.
    expect(tookOverAt - killedAt).toBeLessThan(timing.leaseDurationMs + 2_500);
    const lease = await client.get(builtinTypes.lease, { namespace: ns, name: 'managers' });
    expect(lease.spec?.holderIdentity).toBe('successor');

    stop.abort();
    await campaign;
  });
});
