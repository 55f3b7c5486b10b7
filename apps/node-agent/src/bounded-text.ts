/**
 * Command output and error text end up in Machine status and Events, whose
 * fields have size limits: one long line would make the apiserver refuse the
 * whole status write and leave the Machine silent. Anything taken from
 * outside the agent is cut to a fixed size first.
 */

/** What status messages and Events keep of command output and errors. */
export const MESSAGE_LIMIT = 1024;

const ELLIPSIS = '…';

/** `text` if it is at most `limit` characters, else its start and an ellipsis, `limit` characters in all. */
export function boundedText(text: string, limit = MESSAGE_LIMIT): string {
  if (text.length <= limit) return text;
  return text.slice(0, Math.max(0, limit - ELLIPSIS.length)) + ELLIPSIS;
}
