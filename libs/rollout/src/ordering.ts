import { labelValue } from './label-selector.ts';
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
  // Split every label value and name into chunks once, not on every comparison: pools have 10,000 machines.
  const keyed = machines.map((machine) => ({
    machine,
    labels: orderKeys.map((key) => {
      const value = labelValue(machine.labels, key);
      return value === undefined ? undefined : naturalKey(value);
    }),
    name: naturalKey(machine.name),
  }));
  keyed.sort((a, b) => {
    for (let i = 0; i < orderKeys.length; i++) {
      const byLabel = compareOptional(a.labels[i], b.labels[i]);
      if (byLabel !== 0) return byLabel;
    }
    return compareNaturalKeys(a.name, b.name);
  });
  return keyed.map((entry) => entry.machine);
}

function compareOptional(a: NaturalKey | undefined, b: NaturalKey | undefined): number {
  if (a === undefined || b === undefined) return a === b ? 0 : a === undefined ? 1 : -1;
  return compareNaturalKeys(a, b);
}

const CHUNKS = /\d+|\D+/g;

/** A string cut into runs of digits and runs of anything else, ready to compare naturally. */
interface NaturalKey {
  text: string;
  chunks: string[];
}

function naturalKey(text: string): NaturalKey {
  return { text, chunks: text.match(CHUNKS) ?? [] };
}

/**
 * Compares runs of digits by value and everything else by code unit, so the
 * order is the same on every host. Strings equal that way ("a02", "a2") are
 * told apart by plain comparison, keeping the order total.
 */
export function compareNatural(a: string, b: string): number {
  return compareNaturalKeys(naturalKey(a), naturalKey(b));
}

function compareNaturalKeys(a: NaturalKey, b: NaturalKey): number {
  const length = Math.min(a.chunks.length, b.chunks.length);
  for (let i = 0; i < length; i++) {
    const chunkA = a.chunks[i] as string;
    const chunkB = b.chunks[i] as string;
    if (chunkA === chunkB) continue;
    const byChunk =
      isDigits(chunkA) && isDigits(chunkB)
        ? compareDigitRuns(chunkA, chunkB)
        : compareCodeUnits(chunkA, chunkB);
    if (byChunk !== 0) return byChunk;
  }
  if (a.chunks.length !== b.chunks.length) return a.chunks.length - b.chunks.length;
  return compareCodeUnits(a.text, b.text);
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
  const trimmedA = a.slice(leadingZeros(a));
  const trimmedB = b.slice(leadingZeros(b));
  if (trimmedA.length !== trimmedB.length) return trimmedA.length - trimmedB.length;
  return compareCodeUnits(trimmedA, trimmedB);
}

/** How many leading zeros to drop, keeping at least one digit. */
function leadingZeros(digits: string): number {
  let zeros = 0;
  while (zeros < digits.length - 1 && digits.charCodeAt(zeros) === 48) zeros++;
  return zeros;
}
