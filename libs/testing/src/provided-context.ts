// What global-setup.ts provides to tests through vitest's inject().
declare module 'vitest' {
  export interface ProvidedContext {
    kokKubeconfigPath: string;
    kokBinDir: string;
    /** The cluster CA's certificate and key files, for sharedKubeconfigForUser. */
    kokCaFiles: { certificate: string; key: string };
  }
}

export {};
