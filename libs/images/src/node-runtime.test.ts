import { describe, expect, it } from 'vitest';
import { sharedLibrariesOf } from './node-runtime.ts';

describe('sharedLibrariesOf', () => {
  it.each([
    {
      what: 'a glibc binary: every library and the loader, no vDSO, sorted',
      ldd: [
        '\tlinux-vdso.so.1 (0x00007ffd1a9f2000)',
        '\tlibstdc++.so.6 => /lib/x86_64-linux-gnu/libstdc++.so.6 (0x00007f28c9800000)',
        '\tlibm.so.6 => /lib/x86_64-linux-gnu/libm.so.6 (0x00007f28c9ae4000)',
        '\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f28c961e000)',
        '\t/lib64/ld-linux-x86-64.so.2 (0x00007f28c9bdc000)',
        '',
      ].join('\n'),
      libraries: [
        '/lib/x86_64-linux-gnu/libc.so.6',
        '/lib/x86_64-linux-gnu/libm.so.6',
        '/lib/x86_64-linux-gnu/libstdc++.so.6',
        '/lib64/ld-linux-x86-64.so.2',
      ],
    },
    { what: 'a static binary: nothing', ldd: '\tstatically linked\n', libraries: [] },
  ])('$what', ({ ldd, libraries }) => {
    expect(sharedLibrariesOf(ldd)).toEqual(libraries);
  });

  it.each([
    {
      ldd: '\tlibatomic.so.1 => not found\n',
      error: /needs libatomic\.so\.1, which this machine does not have/,
    },
    {
      ldd: '\tsomething unexpected\n',
      error: /cannot read this line of ldd's output: "something unexpected"/,
    },
  ])('refuses $ldd', ({ ldd, error }) => {
    expect(() => sharedLibrariesOf(ldd)).toThrow(error);
  });
});
