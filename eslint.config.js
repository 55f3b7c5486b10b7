import nx from '@nx/eslint-plugin';
import prettier from 'eslint-config-prettier';

/**
 * Module boundaries: apps depend on libs, never the reverse; libs/api and
 * libs/rollout depend on no other lib; each app only on the libs of its scope
 * plus the shared ones.
 */
const depConstraints = [
  { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:lib'] },
  { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['type:lib'] },
  { sourceTag: 'type:test', onlyDependOnLibsWithTags: ['type:lib'] },
  { sourceTag: 'scope:api', onlyDependOnLibsWithTags: [] },
  { sourceTag: 'scope:rollout', onlyDependOnLibsWithTags: [] },
  { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared', 'scope:api'] },
  {
    sourceTag: 'scope:node-operator',
    onlyDependOnLibsWithTags: ['scope:shared', 'scope:api', 'scope:rollout'],
  },
  { sourceTag: 'scope:kube-on-kube', onlyDependOnLibsWithTags: ['scope:shared', 'scope:api'] },
  { sourceTag: 'scope:node-agent', onlyDependOnLibsWithTags: ['scope:shared', 'scope:api'] },
  { sourceTag: 'scope:cli', onlyDependOnLibsWithTags: ['scope:shared', 'scope:api', 'scope:rollout'] },
  { sourceTag: 'scope:local', onlyDependOnLibsWithTags: ['scope:shared', 'scope:api'] },
  { sourceTag: 'scope:test', onlyDependOnLibsWithTags: ['scope:shared', 'scope:api', 'scope:rollout'] },
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
