import assert from 'node:assert/strict';
import { appendFileSync, chmodSync, existsSync, lstatSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { runCli, tempDir } from '../helpers.js';
import { PYTHON, corpus, writeCase, type BadInputCase } from './corpus.js';

/*
 * Runs every case of the bad-input corpus (corpus.ts) through the real CLI, each in a fresh
 * folder with its own MINIBATCH_HOME, and checks: the exit code; the message; no internal error,
 * and no stack trace for invalid input; nothing half-written (no *.minibatch-partial file, and
 * no output under out/ unless the job succeeded, else the expected number of rows); no run
 * directory for input refused before the run starts, and job_result.txt for a run that started.
 *
 * Cases with `bug` state the correct behaviour and run as `todo` until src is fixed.
 * BAD_INPUTS_CONCURRENCY (default 3) sets how many cases run at once; BAD_INPUTS_DUMP=<file>
 * appends every case's exit code and output to that file (to review the messages).
 */

/** Every file (not folder) under `folder`, relative to it; symlinks are not followed. */
function filesUnder(folder: string): string[] {
  if (!existsSync(folder) || !lstatSync(folder).isDirectory()) return [];
  const found: string[] = [];
  const walk = (current: string) => {
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      const path = join(current, entry.name);
      if (entry.isDirectory()) walk(path);
      else found.push(relative(folder, path));
    }
  };
  walk(folder);
  return found.sort();
}

function runDirs(home: string): string[] {
  const runs = join(home, 'runs');
  return existsSync(runs) ? readdirSync(runs).map((name) => join(runs, name)) : [];
}

function lineCount(path: string): number {
  const text = readFileSync(path, 'utf8');
  return text.length === 0 ? 0 : text.replace(/\n$/, '').split('\n').length;
}

/** Undo chmod 000 so the folder can be removed (and inspected) as any user. */
function restoreModes(dir: string, testCase: BadInputCase): void {
  for (const [path, content] of Object.entries(testCase.files)) {
    if (typeof content === 'object' && !Buffer.isBuffer(content) && 'mode' in content) chmodSync(join(dir, path), 0o755);
  }
}

const CONCURRENCY = Number(process.env.BAD_INPUTS_CONCURRENCY ?? 3);

describe('bad-input corpus: the right exit code, a clear message, nothing half-written', { concurrency: CONCURRENCY }, () => {
  it(`holds at least 100 cases (it holds ${corpus.length})`, () => {
    assert.ok(corpus.length >= 100);
    assert.equal(new Set(corpus.map((c) => c.name)).size, corpus.length, 'case names are unique');
  });

  for (const testCase of corpus) {
    const skip = testCase.skip || (testCase.python && !PYTHON ? 'no python3 found' : false);
    const todo = testCase.bug ? `known bug: ${testCase.bug}` : undefined;
    it(testCase.name, { skip, todo, timeout: 60_000 }, async () => {
      const dir = tempDir('mb-corpus-');
      const home = join(dir, 'home');
      writeCase(dir, testCase);
      const argv = testCase.argv ?? ['run', 'job.yml', ...(testCase.args ?? []), ...(testCase.python && PYTHON ? ['--python', PYTHON] : [])];
      const result = await runCli(argv, { cwd: dir, home, env: testCase.env });
      restoreModes(dir, testCase);
      if (process.env.BAD_INPUTS_DUMP) appendFileSync(process.env.BAD_INPUTS_DUMP, `==== ${testCase.name}\nexit ${result.code}\n--- stderr\n${result.stderr.slice(0, 3000)}--- stdout\n${result.stdout.slice(0, 1000)}\n`);
      const shown = `exit ${result.code}\n--- stderr\n${result.stderr.slice(0, 4000)}\n--- stdout\n${result.stdout.slice(0, 2000)}`;

      assert.equal(result.code, testCase.expectExit, `exit code\n${shown}`);
      if (testCase.expectStderr) assert.match(result.stderr, testCase.expectStderr, shown);
      if (testCase.expectStdout) assert.match(result.stdout, testCase.expectStdout, shown);
      assert.doesNotMatch(result.stderr, /internal error/, 'a bad input is never reported as a bug');
      if (testCase.expectExit === 2) assert.doesNotMatch(result.stderr, /^\s+at /m, `no stack trace for invalid input\n${shown}`);

      // Nothing half-written: no partial file anywhere in the case folder (outputs may be
      // misplaced by a bad job), and under out/ the output only when the job succeeded.
      const partials = filesUnder(dir).filter((file) => file.endsWith('.minibatch-partial') && !file.startsWith('home/'));
      assert.deepEqual(partials, [], 'no partial output file');
      const out = filesUnder(join(dir, 'out'));
      if (testCase.expectExit !== 0 || testCase.output === 'absent') {
        assert.deepEqual(out, [], 'a job that did not succeed leaves no output');
      } else if (testCase.output) {
        assert.equal(out.length, 1, `one output file, found ${out.join(', ')}`);
        assert.equal(lineCount(join(dir, 'out', out[0] ?? '')), testCase.output.rows, 'output rows');
      }

      // A run directory exists only for a job that started.
      const runs = runDirs(home);
      if (testCase.expectExit === 2 && !testCase.started) {
        assert.deepEqual(runs, [], 'refused before the run: no run directory');
      } else if (!testCase.argv) {
        assert.equal(runs.length, 1, 'one run directory');
        const jobResult = readFileSync(join(runs[0] ?? '', 'logs', 'job_result.txt'), 'utf8');
        assert.match(jobResult, testCase.expectExit === 0 ? /^Status: Succeeded/ : /^Status: Failed/);
      }

      testCase.check?.({ dir, home, stdout: result.stdout, stderr: result.stderr });
      rmSync(dir, { recursive: true, force: true });
    });
  }
});
