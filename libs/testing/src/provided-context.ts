// What global-setup.ts provides to tests through vitest's inject().
declare module 'vitest' {
  export interface ProvidedContext {
    kokKubeconfigPath: string;
    kokBinDir: string;
  }
}

export {};
