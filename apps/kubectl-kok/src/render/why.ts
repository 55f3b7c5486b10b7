/** `kubectl kok why …` as text: the object and where it stands, then each reason on its own lines. */
import type { WhyAnswer } from '../why.ts';
import { formatAge } from './age.ts';

export function renderWhy(answer: WhyAnswer, now: Date): string {
  const head = `${answer.object}: ${answer.summary}\n`;
  if (answer.reasons.length === 0) return `${head}  Nothing holds it.\n`;
  return (
    head +
    answer.reasons
      .map(
        ({ reason, message, since }) =>
          `  ${reason}${since ? ` (for ${formatAge(since, now)})` : ''}: ${message}\n`,
      )
      .join('')
  );
}
