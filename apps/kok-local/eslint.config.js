import root from '../../eslint.config.js';

// The local stack starts node agents as that app ships them (its bundle), and its stand-in hosts are the node
// agent's own test hosts (simulators, artifact server, process supervisor): both reused by relative path, as
// the e2e tests do, rather than published by that app.
const boundaries = '@nx/enforce-module-boundaries';
const [level, options] = root.find((config) => config.rules?.[boundaries])?.rules[boundaries] ?? [];

export default [
  ...root,
  {
    files: ['**/*.ts'],
    rules: {
      [boundaries]: [
        level,
        {
          ...options,
          allow: [
            ...(options?.allow ?? []),
            '../../node-agent/bundle.ts',
            '../../node-agent/src/fixtures/**',
          ],
        },
      ],
    },
  },
];
