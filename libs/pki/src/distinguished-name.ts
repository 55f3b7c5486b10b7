/** A subject name: Kubernetes reads the user from CN and the groups from O. */
export interface DistinguishedName {
  readonly commonName: string;
  readonly organizations?: readonly string[];
}

export function formatName({ commonName, organizations = [] }: DistinguishedName): string {
  if (!commonName) throw new Error('a certificate needs a commonName');
  const escape = (value: string) => value.replace(/([,+"\\<>;=])/g, '\\$1');
  return [...organizations.map((o) => `O=${escape(o)}`), `CN=${escape(commonName)}`].join(', ');
}
