import { CoreV1Api } from '@kubernetes/client-node';
import type { V1Node } from '@kubernetes/client-node';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ControlPlane } from './control-plane.ts';
import { startControlPlane } from './control-plane.ts';
import { eventually } from './eventually.ts';
import { kwokNodeAnnotation } from './kwok-stages.ts';
import type { KwokProcess } from './kwok-process.ts';
import { startKwok } from './kwok-process.ts';
import { isAlive } from './process-liveness.ts';

const isReady = (node: V1Node) =>
  node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;

let plane: ControlPlane;
let kwok: KwokProcess | undefined;

beforeAll(async () => {
  // A cluster without kwok of its own, like a biz-cluster the pod runtime booted.
  plane = await startControlPlane();
});

afterAll(async () => {
  await kwok?.stop();
  await plane?.stop();
});

describe('startKwok', () => {
  it('keeps annotated Nodes of a cluster it did not start Ready, leaves the others alone, and stops', async () => {
    kwok = await startKwok({ kubeconfigPath: plane.kubeconfigPath });
    const core = plane.kubeConfig.makeApiClient(CoreV1Api);
    await core.createNode({
      body: {
        metadata: { name: 'simulated', annotations: { [kwokNodeAnnotation.key]: kwokNodeAnnotation.value } },
      },
    });
    await core.createNode({ body: { metadata: { name: 'real' } } });

    await eventually('the annotated Node Ready', async () =>
      isReady(await core.readNode({ name: 'simulated' })),
    );
    expect(isReady(await core.readNode({ name: 'real' }))).toBe(false);

    const { pid, logFile } = kwok;
    await kwok.stop();
    kwok = undefined;
    expect(pid !== undefined && isAlive(pid)).toBe(false);
    // Its temp dir (config and log) goes with it.
    expect(existsSync(logFile)).toBe(false);
  });
});
