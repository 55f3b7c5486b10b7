import root from '../eslint.config.js';

// The e2e tests run the apps as processes and reuse the apps' own test stand-ins (simulators, artifact
// server, process supervisor) and the kube-on-kube-operator's add-on renderers by relative path instead of
// growing the apps' public surface for tests.
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
            // From e2e/src and e2e/src/support respectively.
            ...['../../', '../../../'].flatMap((up) => [
              `${up}apps/node-agent/bundle.ts`,
              `${up}apps/node-agent/src/fixtures/**`,
              `${up}apps/node-agent/src/host-paths.ts`,
              `${up}apps/node-agent/src/process-supervisor.ts`,
              `${up}apps/node-operator/src/test-support/**`,
              `${up}apps/kube-on-kube-operator/src/addons/coredns.ts`,
              `${up}apps/kube-on-kube-operator/src/addons/kube-proxy.ts`,
              `${up}apps/kube-on-kube-operator/src/cluster-spec.ts`,
            ]),
          ],
        },
      ],
    },
  },
];
