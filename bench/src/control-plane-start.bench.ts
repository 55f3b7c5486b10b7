// Warm start time of the local control plane (median of 5 runs by default), and the cold build
// time of its binaries as recorded when the cache was filled (report only).
//   --cold      rebuild every binary into a throwaway cache and time it (≈15 min on 2 cores)
//   --runs=<n>  starts per set (default 5)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  controlPlaneBinaries,
  ensureBinaries,
  startControlPlane,
  type ControlPlaneOptions,
} from '@kok/testing';
import { median, round } from './statistics.ts';

const runs = Number(process.argv.find((a) => a.startsWith('--runs='))?.split('=')[1] ?? 5);
const binDir = ensureBinaries();

function recordedBuildSeconds(): number | null {
  const files = controlPlaneBinaries.map((binary) => join(binDir, `${binary}.build-seconds`));
  if (!files.every(existsSync)) return null;
  return files.reduce((sum, file) => sum + Number(readFileSync(file, 'utf8')), 0);
}

function coldBuildSeconds(): number {
  const cache = mkdtempSync(join(tmpdir(), 'kok-cold-build-'));
  const goCache = mkdtempSync(join(tmpdir(), 'kok-cold-gocache-'));
  const began = performance.now();
  const result = spawnSync('bash', [new URL('../../tools/build-binaries.sh', import.meta.url).pathname], {
    env: { ...process.env, KOK_CACHE_DIR: cache, GOCACHE: goCache, KOK_ASSETS: '' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const seconds = (performance.now() - began) / 1000;
  rmSync(cache, { recursive: true, force: true });
  rmSync(goCache, { recursive: true, force: true });
  if (result.status !== 0) throw new Error('cold build failed');
  return seconds;
}

async function startSeconds(label: string, options: ControlPlaneOptions): Promise<number[]> {
  const samples: number[] = [];
  for (let run = 1; run <= runs; run++) {
    const began = performance.now();
    const controlPlane = await startControlPlane(options);
    samples.push((performance.now() - began) / 1000);
    await controlPlane.stop();
    console.error(`${label} run ${run}/${runs}: ${round(samples.at(-1) as number)}s`);
  }
  return samples;
}

const minimal = await startSeconds('etcd+apiserver', {});
const full = await startSeconds('full', { controllerManager: true, scheduler: true, kwok: true });
const cold = process.argv.includes('--cold') ? coldBuildSeconds() : null;

console.log(
  JSON.stringify({
    benchmark: 'control-plane-start',
    runs,
    etcdApiServerStartSecondsMedian: round(median(minimal)),
    etcdApiServerStartSeconds: minimal.map((s) => round(s)),
    fullStartSecondsMedian: round(median(full)),
    fullStartSeconds: full.map((s) => round(s)),
    targets: { etcdApiServerStartSeconds: 10, fullStartSeconds: 20 },
    coldBuildSecondsRecorded: recordedBuildSeconds(),
    coldBuildSecondsMeasured: cold === null ? null : round(cold, 0),
  }),
);
