/** What -o json|yaml prints of an object: all of it but managedFields, as kubectl does by default. */
export function withoutManagedFields<T extends { metadata?: object }>(object: T): T {
  if (!object.metadata || !('managedFields' in object.metadata)) return object;
  const { managedFields: _, ...metadata } = object.metadata as { managedFields?: unknown };
  return { ...object, metadata };
}
