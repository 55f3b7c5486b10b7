/** What an error says, for logs and status messages; a thrown non-Error as text. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
