/**
 * clusterrollout plan [name] [-f FILE]: the live ClusterRollout, or the one a
 * file proposes (as an update of the live one of that name, if there is one),
 * planned on the Clusters of its namespace. Writes nothing.
 */
import { readFileSync } from 'node:fs';
import { apiVersionOf, ClusterRolloutResource, describeInvalid, validatorFor } from '@kok/api';
import type { ClusterRollout } from '@kok/api';
import { isNotFound } from '@kok/reconcile';
import { parse } from 'yaml';
import type { Target } from '../api-error-messages.ts';
import { explainApiError } from '../api-error-messages.ts';
import { CommandError } from '../cli-errors.ts';
import { clusterRolloutPlanView } from '../clusterrollout-plan.ts';
import type { CommandFlags } from '../command-line.ts';
import type { Connection } from '../kube-connection.ts';
import { clusterRolloutType, clusterType } from '../resources.ts';
import type { ClusterObject, ClusterRolloutObject } from '../resources.ts';
import { renderClusterRolloutPlan } from '../render/clusterrollout-plan.ts';
import { renderDocument } from '../render/documents.ts';
import type { CommandIo } from './io.ts';
import { clusterTarget } from './targets.ts';

function rolloutTarget(name: string | undefined, namespace: string): Target {
  return {
    kind: 'ClusterRollout',
    apiVersion: apiVersionOf(ClusterRolloutResource),
    plural: ClusterRolloutResource.plural,
    ...(name === undefined ? {} : { name }),
    namespace,
  };
}

/** The ClusterRollout in `file` (`-` is stdin), checked as the apiserver would check it. */
function readProposal(file: string): ClusterRollout {
  const where = file === '-' ? 'stdin' : file;
  let document: unknown;
  try {
    document = parse(readFileSync(file === '-' ? 0 : file, 'utf8'));
  } catch (error) {
    throw new CommandError(`cannot read a ClusterRollout from ${where}: ${(error as Error).message}`);
  }
  const kind = (document as { kind?: unknown } | null)?.kind;
  if (kind !== ClusterRolloutResource.kind)
    throw new CommandError(
      `${where} holds ${typeof kind === 'string' ? `a ${kind}` : 'no Kubernetes object'}, not one ClusterRollout`,
    );
  const errors = validatorFor(ClusterRolloutResource).validate(document);
  if (errors.length > 0)
    throw new CommandError(
      `${describeInvalid('ClusterRollout', (document as ClusterRollout).metadata?.name, errors)} (from ${where}); the apiserver would refuse it`,
    );
  return document as ClusterRollout;
}

export async function clusterRolloutPlan(
  connection: Connection,
  name: string,
  flags: CommandFlags,
  io: CommandIo,
): Promise<void> {
  const proposal = flags.filename === undefined ? undefined : readProposal(flags.filename);
  const namespace = proposal?.metadata?.namespace ?? connection.namespace;
  // As kubectl apply: a file's namespace and -n must agree.
  if (flags.namespace !== undefined && flags.namespace !== namespace)
    throw new CommandError(
      `the ClusterRollout in ${flags.filename} is in namespace "${namespace}", not "${flags.namespace}" (-n): drop -n or fix the file`,
    );
  const rolloutName = name || proposal?.metadata?.name;
  if (!rolloutName)
    throw new CommandError('the ClusterRollout has no name: give it metadata.name in the file, or a NAME');

  let live: ClusterRolloutObject | undefined;
  let rollouts: ClusterRolloutObject[];
  let clusters: ClusterObject[];
  try {
    ({ items: rollouts } = await connection.client.list(clusterRolloutType, { namespace }));
  } catch (error) {
    throw explainApiError(error, rolloutTarget(undefined, namespace), connection.server);
  }
  try {
    live = await connection.client.get(clusterRolloutType, { namespace, name: rolloutName });
  } catch (error) {
    if (!(proposal && isNotFound(error)))
      throw explainApiError(error, rolloutTarget(rolloutName, namespace), connection.server);
  }
  try {
    ({ items: clusters } = await connection.client.list(clusterType, { namespace }));
  } catch (error) {
    throw explainApiError(error, clusterTarget(undefined, namespace), connection.server);
  }

  // A proposal for an existing rollout is an update of it: same uid, so the clusters it started stay in their waves.
  const rollout = proposal
    ? {
        metadata: {
          ...live?.metadata,
          name: rolloutName,
          namespace,
          annotations: { ...live?.metadata?.annotations, ...proposal.metadata?.annotations },
        },
        spec: proposal.spec,
        ...(live?.status ? { status: live.status } : {}),
      }
    : (live as ClusterRolloutObject);
  const finished =
    proposal === undefined &&
    rollout.status?.phase === 'Succeeded' &&
    rollout.status.observedGeneration === rollout.metadata?.generation;
  const view = clusterRolloutPlanView({
    rollout: { ...rollout, metadata: rollout.metadata ?? {} },
    source: proposal ? 'file' : 'live',
    finished,
    clusters: clusters.map((c) => ({ ...c, metadata: c.metadata ?? {} })),
    rollouts: rollouts.map((r) => ({ ...r, metadata: r.metadata ?? {} })),
    now: io.now().getTime(),
  });
  if (flags.output === 'json' || flags.output === 'yaml') io.stdout(renderDocument(view, flags.output));
  else io.stdout(renderClusterRolloutPlan(view));
}
