import type { MachineState } from './machine-state.ts';

/**
 * The rollout order: by the value of each `orderKeys` label in turn, then by
 * name. Machines without one of the labels go after those with it, so a
 * mislabeled host never slips into an early canary. Values and names compare
 * with numbers read as numbers ("worker-2" before "worker-10").
 */
export function orderMachines<M extends MachineState>(
  machines: readonly M[],
  orderKeys: readonly string[],
): M[] {
  return [...machines].sort((a, b) => {
    for (const key of orderKeys) {
      const byLabel = compareOptional(a.labels[key], b.labels[key]);
      if (byLabel !== 0) return byLabel;
    }
    return compareNatural(a.name, b.name);
  });
}

function compareOptional(a: string | undefined, b: string | undefined): number {
  if (a === b) return 0;
  if (a === undefined) return 1;
  if (b === undefined) return -1;
  return compareNatural(a, b);
}

const CHUNKS = /\d+|\D+/g;

/**
 * Compares runs of digits by value and everything else by code unit, so the
 * order is the same on every host. Strings equal that way ("a02", "a2") are
 * told apart by plain comparison, keeping the order total.
 */
export function compareNatural(a: string, b: string): number {
  const chunksA = a.match(CHUNKS) ?? [];
  const chunksB = b.match(CHUNKS) ?? [];
  for (let i = 0; i < Math.min(chunksA.length, chunksB.length); i++) {
    const chunkA = chunksA[i] as string;
    const chunkB = chunksB[i] as string;
    const byChunk =
      isDigits(chunkA) && isDigits(chunkB)
        ? compareDigitRuns(chunkA, chunkB)
        : compareCodeUnits(chunkA, chunkB);
    if (byChunk !== 0) return byChunk;
  }
  if (chunksA.length !== chunksB.length) return chunksA.length - chunksB.length;
  return compareCodeUnits(a, b);
}

function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function isDigits(chunk: string): boolean {
  const first = chunk.charCodeAt(0);
  return first >= 48 && first <= 57;
}

/** Digit runs of any length, without turning them into (possibly imprecise) numbers. */
function compareDigitRuns(a: string, b: string): number {
  const trimmedA = a.replace(/^0+(?=\d)/, '');
  const trimmedB = b.replace(/^0+(?=\d)/, '');
  if (trimmedA.length !== trimmedB.length) return trimmedA.length - trimmedB.length;
  return compareCodeUnits(trimmedA, trimmedB);
}
