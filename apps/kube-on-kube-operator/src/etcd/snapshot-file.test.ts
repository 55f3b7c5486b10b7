import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pruneSnapshots } from './snapshot-file.ts';

describe('pruneSnapshots', () => {
  it("deletes the Cluster's oldest files beyond keep and a cut-short leftover, and nothing else", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kok-snapshots-'));
    const names = [
      'a-20261201T000000000Z.db',
      'a-20261202T000000000Z.db',
      'a-20261203T000000000Z.db',
      '.partial-1764720000000-3f2a',
      'README',
    ];
    for (const name of names) writeFileSync(join(dir, name), name);
    expect(await pruneSnapshots(dir, 'a', 2)).toEqual(['a-20261201T000000000Z.db']);
    expect(readdirSync(dir).sort()).toEqual([
      'README',
      'a-20261202T000000000Z.db',
      'a-20261203T000000000Z.db',
    ]);
  });
});
