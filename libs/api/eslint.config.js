import root from '../../eslint.config.js';

const RULE = '@nx/enforce-module-boundaries';
const [level, options] = root.find((config) => config.rules?.[RULE])?.rules[RULE] ?? [];

export default [
  ...root,
  // libs/api depends on no lib at run time; only its tests may use the local
  // control plane of @kok/testing (a devDependency).
  ...(options
    ? [{ files: ['**/*.test.ts'], rules: { [RULE]: [level, { ...options, allow: ['@kok/testing'] }] } }]
    : []),
];
