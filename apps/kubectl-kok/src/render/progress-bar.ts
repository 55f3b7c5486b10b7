/**
 * A text progress bar: `[##########----------]  50%`. ASCII, so it survives
 * every terminal and log collector.
 */

/** Default bar width in characters, between the brackets. */
export const PROGRESS_BAR_WIDTH = 20;

/**
 * `done` of `total` as a bar and a percentage. The bar is full only when
 * everything is done and empty only when nothing is, so 199 of 200 never
 * looks finished. An empty total counts as done.
 */
export function progressBar(done: number, total: number, width = PROGRESS_BAR_WIDTH): string {
  const fraction = total <= 0 ? 1 : Math.min(1, Math.max(0, done / total));
  let filled = Math.round(fraction * width);
  if (fraction < 1) filled = Math.min(filled, width - 1);
  if (fraction > 0) filled = Math.max(filled, 1);
  const percent = fraction < 1 ? Math.min(99, Math.floor(fraction * 100)) : 100;
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(percent).padStart(3)}%`;
}
