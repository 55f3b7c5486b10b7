/**
 * Everything `kubectl kok nodepool status` shows, as data: revisions, counts,
 * why the pool is paused, and progress per wave. Pure, so the same view can be
 * printed as text, JSON or YAML and redrawn by --watch.
 */
import { findCondition, NodePoolConditions, templateRevision } from '@kok/api';
import type { Condition, Machine, NodePool } from '@kok/api';
import type { FailedMachine, WaveProgress } from './pool-waves.ts';
import { poolWaves } from './pool-waves.ts';

export interface NodePoolStatusView {
  name: string;
  /** The revision being rolled out: status.updateRevision, or the template's own while the operator has not reported. */
  targetRevision: string;
  /** The revision of spec.template as it is now. */
  templateRevision: string;
  /** status.currentRevision: the last revision every machine ran healthy; rollbacks go there. */
  lastGoodRevision?: string;
  /** The node-operator has not acted on the latest spec yet (observedGeneration behind, or another template). */
  operatorBehind: boolean;
  /** spec.paused. */
  pausedBySpec: boolean;
  /** Condition Paused when True: why nothing new starts. */
  pause?: { reason: string; message: string };
  /** Condition RollingOut: what the rollout is doing (Baking, RollingOut, Complete, …). */
  rollingOut?: { status: string; reason: string; message: string };
  maxUnavailable: string;
  maxFailed: number;
  counts: {
    machines: number;
    updated: number;
    ready: number;
    unavailable: number;
    failed: number;
  };
  /** status.currentWave. */
  currentWave: number;
  waves: WaveProgress[];
  failedMachines: FailedMachine[];
  conditions: Condition[];
}

export function nodePoolStatusView(pool: NodePool, machines: readonly Machine[]): NodePoolStatusView {
  const status = pool.status ?? {};
  const ownRevision = templateRevision(pool.spec.template);
  const target = status.updateRevision ?? ownRevision;
  const { waves, failed } = poolWaves(pool, machines, target);
  const generation = pool.metadata?.generation;
  const paused = findCondition(status.conditions, NodePoolConditions.Paused);
  const rollingOut = findCondition(status.conditions, NodePoolConditions.RollingOut);
  const fromWaves = (key: 'machines' | 'updated' | 'failed') => waves.reduce((sum, w) => sum + w[key], 0);

  const view: NodePoolStatusView = {
    name: pool.metadata?.name ?? '',
    targetRevision: target,
    templateRevision: ownRevision,
    operatorBehind:
      status.updateRevision !== ownRevision ||
      (generation !== undefined && status.observedGeneration !== generation),
    pausedBySpec: pool.spec.paused === true,
    maxUnavailable: String(pool.spec.rollout?.strategy?.rollingUpdate?.maxUnavailable ?? 1),
    maxFailed: pool.spec.rollout?.maxFailed ?? 0,
    // The operator's counts when it has reported them; until then what the Machines say.
    counts: {
      machines: status.machines ?? fromWaves('machines'),
      updated: status.updatedMachines ?? fromWaves('updated'),
      ready: status.readyMachines ?? 0,
      unavailable: status.unavailableMachines ?? 0,
      failed: status.failedMachines ?? fromWaves('failed'),
    },
    currentWave: status.currentWave ?? 0,
    waves,
    failedMachines: failed,
    conditions: status.conditions ?? [],
  };
  if (status.currentRevision !== undefined) view.lastGoodRevision = status.currentRevision;
  if (paused?.status === 'True') view.pause = { reason: paused.reason, message: paused.message };
  if (rollingOut)
    view.rollingOut = { status: rollingOut.status, reason: rollingOut.reason, message: rollingOut.message };
  return view;
}
