/**
 * Whether a Component (catalog entry) is usable: the checks the CRD cannot
 * make itself, plus the CRD's own rules again for an object stored before a
 * rule existed. The agent would hit each of these on every host that installs
 * the entry; here they are found once, before a NodePool rolls it out. Pure.
 */
import { ComponentConditions, ComponentResource, setCondition, validatorFor } from '@kok/api';
import type { Component, ComponentStatus, ConditionUpdate } from '@kok/api';

export const ACCEPTANCE_REASONS = {
  accepted: 'Valid',
  /** The object breaks a rule of the CRD schema (or one of its CEL rules). */
  invalidSpec: 'InvalidSpec',
  /** An Image's importCommand never names the downloaded tarball. */
  invalidImportCommand: 'InvalidImportCommand',
  /** versionCheck.pattern does not compile where the agent compiles it (a JavaScript RegExp). */
  invalidVersionPattern: 'InvalidVersionPattern',
} as const;

/** Replaced by the agent with the downloaded file's path in an Image's importCommand (artifact-store.ts). */
const ARTIFACT_VARIABLE = '$(KOK_ARTIFACT)';

interface Problem {
  reason: string;
  message: string;
}

function specProblems(component: Component): Problem[] {
  // Only the fields a person writes: status and server-set metadata are not the entry's content.
  const errors = validatorFor(ComponentResource).validate({
    apiVersion: component.apiVersion,
    kind: component.kind,
    metadata: { name: component.metadata?.name },
    spec: component.spec,
  });
  if (errors.length > 0)
    return [
      {
        reason: ACCEPTANCE_REASONS.invalidSpec,
        message: errors.map((error) => `${error.field}: ${error.message}`).join('; '),
      },
    ];
  const problems: Problem[] = [];
  const { install, versionCheck } = component.spec;
  if (install.method === 'Image' && !install.importCommand?.some((arg) => arg.includes(ARTIFACT_VARIABLE)))
    problems.push({
      reason: ACCEPTANCE_REASONS.invalidImportCommand,
      message: `install.importCommand never names ${ARTIFACT_VARIABLE}, so the import is not given the downloaded image tarball`,
    });
  if (versionCheck?.pattern !== undefined) {
    try {
      new RegExp(versionCheck.pattern);
    } catch (error) {
      problems.push({
        reason: ACCEPTANCE_REASONS.invalidVersionPattern,
        message: `versionCheck.pattern ${JSON.stringify(versionCheck.pattern)} does not compile: ${(error as Error).message}`,
      });
    }
  }
  return problems;
}

/** Condition Accepted for `component`: True, or False with the first problem's reason and every problem's message. */
export function componentAcceptance(component: Component): ConditionUpdate {
  const problems = specProblems(component);
  const generation = component.metadata?.generation;
  const g = generation === undefined ? {} : { observedGeneration: generation };
  const [first] = problems;
  if (!first)
    return { type: ComponentConditions.Accepted, status: 'True', reason: ACCEPTANCE_REASONS.accepted, ...g };
  return {
    type: ComponentConditions.Accepted,
    status: 'False',
    reason: first.reason,
    message: problems.map((p) => p.message).join('; '),
    ...g,
  };
}

// Cache objects are frozen and replaced on every change, so a verdict per object stays right;
// the pool check asks for the same few Components on every pass.
const verdicts = new WeakMap<Component, ConditionUpdate>();

/** componentAcceptance, remembered per (frozen) object. */
export function acceptanceOf(component: Component): ConditionUpdate {
  if (!Object.isFrozen(component)) return componentAcceptance(component);
  let verdict = verdicts.get(component);
  if (!verdict) {
    verdict = componentAcceptance(component);
    verdicts.set(component, verdict);
  }
  return verdict;
}

/** The status the node-operator writes on `component`. */
export function componentStatusFor(component: Component, now: Date): ComponentStatus {
  const previous = component.status ?? {};
  const acceptance = acceptanceOf(component);
  const generation = component.metadata?.generation;
  return {
    ...(generation === undefined ? {} : { observedGeneration: generation }),
    conditions: setCondition(previous.conditions, acceptance, now),
  };
}
