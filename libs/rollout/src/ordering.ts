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
  const input = orderInput(machines, orderKeys);
  const candidates = rememberedOrders.filter(
    (order) => order.rankOf.size === input.names.length && order.last.orderKeys === input.orderKeys,
  );
  let remembered: RememberedOrder | undefined;
  let positions: number[] | undefined;
  for (const order of candidates) {
    positions = isSameInput(order.last, input) ? order.positions : relisted(order, input);
    if (positions) {
      remembered = order;
      break;
    }
  }
  if (remembered && positions) {
    rememberedOrders.splice(rememberedOrders.indexOf(remembered), 1);
    remembered.last = input;
    remembered.positions = positions;
  } else {
    positions = sortedPositions(machines, orderKeys);
    remembered = orderToRemember(input, positions);
  }
  if (remembered) rememberedOrders.unshift(remembered);
  if (rememberedOrders.length > REMEMBERED_ORDERS) rememberedOrders.pop();
  return positions.map((position) => machines[position] as M);
}

/**
 * The planner orders a whole pool on every call, pools have 10,000 machines,
 * and from one call to the next a pool rarely gains or loses a machine or has
 * an order label changed. So the last few orders are remembered with what
 * they were computed from: the names and order-label values, which are all
 * that decides the order. A pool with the same names and values gets the
 * same order again without sorting, whatever order it is listed in.
 */
interface OrderInput {
  /** The order keys, as JSON. */
  orderKeys: string;
  keyCount: number;
  names: string[];
  /** `keyCount` label values per machine, in the order of `names`. */
  values: (string | undefined)[];
}

interface RememberedOrder {
  /** Each machine's place in the rollout order, by name. */
  rankOf: ReadonlyMap<string, number>;
  /** `keyCount` label values per place in the rollout order. */
  values: readonly (string | undefined)[];
  /** The listing seen last, and its positions in rollout order: the caller usually lists the pool the same way again. */
  last: OrderInput;
  positions: number[];
}

/** One per pool is plenty; with more pools than this, some are sorted again now and then. */
const REMEMBERED_ORDERS = 16;
const rememberedOrders: RememberedOrder[] = [];

function orderInput(machines: readonly MachineState[], orderKeys: readonly string[]): OrderInput {
  const names: string[] = [];
  const values: (string | undefined)[] = [];
  for (const machine of machines) {
    names.push(machine.name);
    for (const key of orderKeys) values.push(labelValue(machine.labels, key));
  }
  return { orderKeys: JSON.stringify(orderKeys), keyCount: orderKeys.length, names, values };
}

/** What to remember of a sorted pool; nothing when two machines share a name, as names could not tell them apart. */
function orderToRemember(input: OrderInput, positions: number[]): RememberedOrder | undefined {
  const { keyCount } = input;
  const rankOf = new Map<string, number>();
  const values: (string | undefined)[] = [];
  for (const [rank, position] of positions.entries()) {
    rankOf.set(input.names[position] as string, rank);
    for (let k = 0; k < keyCount; k++) values.push(input.values[position * keyCount + k]);
  }
  return rankOf.size === positions.length ? { rankOf, values, last: input, positions } : undefined;
}

function isSameInput(a: OrderInput, b: OrderInput): boolean {
  if (a.names.length !== b.names.length || a.values.length !== b.values.length) return false;
  for (let i = 0; i < a.names.length; i++) if (a.names[i] !== b.names[i]) return false;
  for (let i = 0; i < a.values.length; i++) if (a.values[i] !== b.values[i]) return false;
  return true;
}

/**
 * The rollout order of `input` (positions in it) when it lists the machines of
 * `order`, with the same label values, in some other order; else undefined.
 */
function relisted(order: RememberedOrder, input: OrderInput): number[] | undefined {
  const { keyCount } = input;
  const positions = new Array<number>(input.names.length).fill(-1);
  for (const [position, name] of input.names.entries()) {
    const rank = order.rankOf.get(name);
    // Unknown, or a second machine of that name.
    if (rank === undefined || positions[rank] !== -1) return undefined;
    for (let k = 0; k < keyCount; k++)
      if (input.values[position * keyCount + k] !== order.values[rank * keyCount + k]) return undefined;
    positions[rank] = position;
  }
  return positions;
}

/** Positions in `machines`, in rollout order, by sorting. */
function sortedPositions(machines: readonly MachineState[], orderKeys: readonly string[]): number[] {
  // Each machine gets one string whose code-unit order is the natural order, so the sort compares natively.
  const keys: string[] = [];
  for (const machine of machines) {
    const key = sortKey(machine, orderKeys);
    if (key === undefined) return positionsByComparison(machines, orderKeys);
    keys.push(key);
  }
  const positions = keys.map((_, position) => position);
  return positions.sort((a, b) => compareCodeUnits(keys[a] as string, keys[b] as string) || a - b);
}

/** The same order by comparing chunk by chunk, for text that `naturalSortKey` cannot encode. */
function positionsByComparison(machines: readonly MachineState[], orderKeys: readonly string[]): number[] {
  // Split every label value and name into chunks once, not on every comparison.
  const keyed = machines.map((machine, position) => ({
    position,
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
  return keyed.map((entry) => entry.position);
}

/** The machine's place in the rollout order as one string, or undefined when some text cannot be encoded. */
function sortKey(machine: MachineState, orderKeys: readonly string[]): string | undefined {
  let key = '';
  for (const orderKey of orderKeys) {
    const value = labelValue(machine.labels, orderKey);
    const part = value === undefined ? MISSING_LABEL : naturalSortKey(value);
    if (part === undefined) return undefined;
    key += part;
  }
  const name = naturalSortKey(machine.name);
  return name === undefined ? undefined : key + name;
}

/** Sorts after every encoded value: machines without the label go last. */
const MISSING_LABEL = '\uffff';
/** Ends a run of non-digits, below every character such a run may hold, so a shorter run sorts first. */
const END_OF_TEXT_RUN = '\u0001';
/** Ends the runs, below everything a run may start with: fewer runs sort first; then the text itself. */
const END_OF_RUNS = '\u0000';
/** After END_OF_RUNS the plain text follows, ended by this so that a shorter text sorts first. */
const END_OF_TEXT = '\u0000';

/**
 * A string whose code-unit order is `compareNatural`'s order, and which no
 * other encoded string starts with, so keys can be concatenated. Each run of
 * non-digits is copied and ended by END_OF_TEXT_RUN; each run of digits becomes
 * its length without leading zeros (as a character from '1' to '9', so it
 * compares with a non-digit as a digit does) and those digits; then the text
 * for the final tie-break. Undefined when the text holds characters the
 * markers need (U+0000, U+0001, U+FFFF) or a run of more than 65,534 digits.
 */
export function naturalSortKey(text: string): string | undefined {
  let key = '';
  let i = 0;
  while (i < text.length) {
    const start = i;
    if (isDigitCode(text.charCodeAt(i))) {
      while (i < text.length - 1 && text.charCodeAt(i) === 48 && isDigitCode(text.charCodeAt(i + 1))) i++;
      const significant = i;
      while (i < text.length && isDigitCode(text.charCodeAt(i))) i++;
      if (i - significant >= 0xffff) return undefined;
      key += digitRunLength(i - significant) + text.slice(significant, i);
    } else {
      for (; i < text.length && !isDigitCode(text.charCodeAt(i)); i++) {
        const code = text.charCodeAt(i);
        if (code <= 1 || code === 0xffff) return undefined;
      }
      key += text.slice(start, i) + END_OF_TEXT_RUN;
    }
  }
  return key + END_OF_RUNS + text + END_OF_TEXT;
}

/** '1'…'8' for lengths below 9, then '9' and the length as one character: lengths order like their runs. */
function digitRunLength(length: number): string {
  return length < 9 ? String.fromCharCode(48 + length) : `9${String.fromCharCode(length)}`;
}

function isDigitCode(code: number): boolean {
  return code >= 48 && code <= 57;
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
