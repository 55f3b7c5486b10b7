import nx from '@nx/eslint-plugin';
import prettier from 'eslint-config-prettier';

/**
 * Module boundaries, as DESIGN.md draws them: apps depend on libs, never the
 * reverse and never on another app; libs/api and libs/rollout depend on no
 * other lib; every other lib, every app and the e2e and bench tests may use
 * any lib.
 */
const LIB_SCOPES = ['scope:shared', 'scope:api', 'scope:rollout'];
const APP_AND_TEST_SCOPES = [
  'scope:node-operator',
  'scope:kube-on-kube',
  'scope:node-agent',
  'scope:cli',
  'scope:local',
  'scope:test',
];
const depConstraints = [
  { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:lib'] },
  { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['type:lib'] },
  { sourceTag: 'type:test', onlyDependOnLibsWithTags: ['type:lib'] },
  { sourceTag: 'scope:api', onlyDependOnLibsWithTags: [] },
  { sourceTag: 'scope:rollout', onlyDependOnLibsWithTags: [] },
  { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: LIB_SCOPES },
  ...APP_AND_TEST_SCOPES.map((sourceTag) => ({ sourceTag, onlyDependOnLibsWithTags: LIB_SCOPES })),
];

export default [
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  {
    ignores: ['**/node_modules', '**/dist', '**/.nx', '**/.kok', 'tools/**', 'crds/**', 'charts/**'],
  },
  {
    files: ['**/*.ts'],
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        { enforceBuildableLibDependency: false, allow: [], banTransitiveDependencies: false, depConstraints },
      ],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-floating-promises': 'off',
    },
  },
  prettier,
];
