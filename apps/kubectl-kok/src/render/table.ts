/**
 * Plain-text tables the way kubectl prints them: upper-case headers, columns
 * left-aligned and separated by three spaces, no trailing blanks.
 */

const GAP = '   ';

export function renderTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: readonly string[]) =>
    headers
      .map((_, column) => (cells[column] ?? '').padEnd(widths[column] ?? 0))
      .join(GAP)
      .trimEnd();
  return [line(headers.map((header) => header.toUpperCase())), ...rows.map(line)].join('\n') + '\n';
}

/** `Label:   value` lines with the values aligned, for describe-style views; an empty label continues the line above. */
export function renderFields(fields: readonly (readonly [string, string])[]): string {
  const width = Math.max(0, ...fields.map(([label]) => label.length + 1));
  return (
    fields
      .map(([label, value]) => `${(label === '' ? '' : `${label}:`).padEnd(width)}  ${value}`.trimEnd())
      .join('\n') + '\n'
  );
}

/** Indents every non-empty line, for sections inside a describe view. */
export function indent(text: string, by = '  '): string {
  return text
    .split('\n')
    .map((line) => (line === '' ? line : by + line))
    .join('\n');
}
