import root from '../eslint.config.js';

// cluster-up-real measures a Cluster on the meta-cluster of real hosts the real-containers e2e test builds:
// it reuses that test's support module by relative path rather than a copy of it.
const boundaries = '@nx/enforce-module-boundaries';
const [level, options] = root.find((config) => config.rules?.[boundaries])?.rules[boundaries] ?? [];

export default [
  ...root,
  {
    files: ['**/*.ts'],
    rules: {
      [boundaries]: [
        level,
        { ...options, allow: [...(options?.allow ?? []), '../../e2e/src/support/real-container-meta.ts'] },
      ],
    },
  },
];
