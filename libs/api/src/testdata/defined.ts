/** Narrows away undefined in tests, failing loudly instead of asserting with `!`. */
export function defined<T>(value: T | undefined, what = 'value'): T {
  if (value === undefined) throw new Error(`${what} is missing`);
  return value;
}
