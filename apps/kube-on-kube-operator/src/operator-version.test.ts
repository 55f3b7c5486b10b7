import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { OPERATOR_VERSION } from './operator-version.ts';

const chartsDir = join(dirname(fileURLToPath(import.meta.url)), '../../../charts');
const appVersion = (chart: string) =>
  (parse(readFileSync(join(chartsDir, chart, 'Chart.yaml'), 'utf8')) as { appVersion: string }).appVersion;

describe('OPERATOR_VERSION', () => {
  it('is the release both charts install, so the default node-operator is the one the node-operator chart ships', () => {
    expect(OPERATOR_VERSION).toBe(appVersion('kube-on-kube-operator'));
    expect(OPERATOR_VERSION).toBe(appVersion('node-operator'));
  });
});
