import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

/*
 * The bench scripts' options are checked before anything runs: a misspelt workload or a count that
 * is not a number once ran nothing, or ran with NaN runs, and still rewrote bench/RESULTS.md.
 */
const REPO = fileURLToPath(new URL('../..', import.meta.url));
const RESULTS = join(REPO, 'bench', 'RESULTS.md');

function bench(script: string, args: readonly string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', script, ...args], { cwd: REPO, encoding: 'utf8', timeout: 60_000 });
}

describe('bench options', () => {
  for (const [script, args, message] of [
    ['bench/suite.ts', ['--only', 'W1,W9'], /^bench\/suite\.ts: --only W1,W9: no workload W9; expected some of W1, W2, W3, W4, W5, W6, W7, W8$/m],
    ['bench/suite.ts', ['--runs', 'abc'], /^bench\/suite\.ts: --runs abc: expected a whole number above 0$/m],
    ['bench/suite.ts', ['--runs', '0'], /^bench\/suite\.ts: --runs 0: expected a whole number above 0$/m],
    ['bench/suite.ts', ['--w7-files', '10000,,5'], /^bench\/suite\.ts: --w7-files 10000,,5: expected comma-separated whole numbers above 0$/m],
    ['bench/suite.ts', ['--w3-mb=-5'], /^bench\/suite\.ts: --w3-mb -5: expected a number above 0$/m],
    ['bench/suite.ts', ['--bogus'], /^bench\/suite\.ts: Unknown option '--bogus'/m],
    ['bench/tabular.ts', ['--w3-mb', 'abc'], /^bench\/tabular\.ts: --w3-mb abc: expected a number above 0$/m],
    ['bench/redis.ts', ['--local-cpu', '1,2.5'], /^bench\/redis\.ts: --local-cpu 1,2\.5: expected comma-separated whole numbers above 0$/m],
  ] as const) {
    it(`${script} refuses ${args.join(' ')} with exit 2, writing nothing`, () => {
      const before = existsSync(RESULTS) ? readFileSync(RESULTS, 'utf8') : undefined;
      const result = bench(script, args);
      assert.equal(result.status, 2, result.stderr);
      assert.match(result.stderr, message);
      assert.equal(result.stdout, '', 'nothing started');
      assert.equal(existsSync(RESULTS) ? readFileSync(RESULTS, 'utf8') : undefined, before);
    });
  }
});
