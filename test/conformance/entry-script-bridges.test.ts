import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FIXTURE_PYTHON, FIXTURE_SCRIPTS, findTestPython, makeJob, readLines, runCli as runLocal, type CliResult } from '../helpers.js';
import { NO_REDIS, RedisHarness } from '../support/redis-harness.js';

/*
 * One suite, every entry-script bridge on every backend: the JS bridge and the Python bridge,
 * run locally and through a Redis compute with agents, must behave the same for the same job
 * (rows, order, partial returns, errors, bad returns, init once per process, arguments,
 * environment).
 */

const PYTHON = findTestPython();
interface Bridge {
  name: string;
  script: string;
  fixtures: string;
  args: string[];
  skip: false | string;
}
const bridges: Bridge[] = [
  { name: 'js', script: 'conformance.mjs', fixtures: FIXTURE_SCRIPTS, args: [], skip: false },
  { name: 'python', script: 'conformance.py', fixtures: FIXTURE_PYTHON, args: ['--python', PYTHON ?? 'python3'], skip: PYTHON ? false : 'no python3 found' },
];

/** A job whose files hold the given words, 2 files per mini-batch. */
function wordsJob(bridge: Bridge, words: string[], extra: Record<string, unknown> = {}) {
  const job = makeJob({ script: bridge.script, fixtures: bridge.fixtures, files: words.length, size: 2, programArguments: '--tag t', retry: { max_retries: 0 }, extra: { environment_variables: { CONFORMANCE_ENV: 'set' }, ...extra } });
  words.forEach((word, i) => writeFileSync(join(job.dir, 'data', `f-${String(i).padStart(4, '0')}.txt`), `${word}\n`));
  return job;
}

interface Backend {
  name: string;
  skip: false | string;
  /** Set up before the suite: the CLI's extra arguments and environment. */
  setup?: () => Promise<{ args: string[]; env: Record<string, string>; teardown: () => Promise<void> }>;
}
const backends: Backend[] = [
  { name: 'local', skip: false },
  {
    name: 'redis',
    skip: NO_REDIS,
    setup: async () => {
      const harness = await RedisHarness.start(PYTHON ? { MINIBATCH_PYTHON: PYTHON } : {});
      // Two agents; the jobs ask for one node, so either may serve it.
      await harness.startAgent('conformance-a');
      await harness.startAgent('conformance-b');
      return { args: ['--compute', harness.compute], env: harness.env, teardown: () => harness.stop() };
    },
  },
];

for (const backend of backends) for (const bridge of bridges) {
  describe(`entry-script bridge conformance: ${bridge.name} on ${backend.name}`, { skip: bridge.skip || backend.skip }, () => {
    let extra: { args: string[]; env: Record<string, string>; teardown: () => Promise<void> } | undefined;
    before(async () => {
      extra = await backend.setup?.();
    });
    after(async () => {
      await extra?.teardown();
    });
    const runCli = (args: string[], options: { home: string }): Promise<CliResult> => runLocal([...args, ...(extra?.args ?? [])], { ...options, env: extra?.env ?? {} });

    it('rows in input order, init once per process with the rank and environment', async () => {
      const job = wordsJob(bridge, ['a', 'b', 'c', 'd', 'e']);
      const result = await runCli(['run', job.jobFile, '--json', ...bridge.args], { home: job.home });
      assert.equal(result.code, 0, result.stderr);
      assert.equal(JSON.parse(result.stdout).compute, backend.name === 'redis' ? 'test-redis' : 'local', 'ran on the backend under test');
      assert.deepEqual(readLines(job.output), ['t f-0000.txt a', 't f-0001.txt b', 't f-0002.txt c', 't f-0003.txt d', 't f-0004.txt e']);
      const inits = readLines(join(job.dir, 'state', 'init.log'));
      assert.ok(inits.length >= 1 && inits.length <= 2);
      for (const line of inits) assert.match(line, /^init \d+ [01] set$/);
      assert.equal(new Set(inits.map((line) => line.split(' ')[1])).size, inits.length, 'one init per process');
    });

    it('fewer elements than inputs: failed items, and the returned rows kept', async () => {
      const job = wordsJob(bridge, ['a', 'skip', 'c', 'd']);
      const result = await runCli(['run', job.jobFile, '--json', ...bridge.args], { home: job.home });
      assert.equal(result.code, 0, result.stderr);
      const summary = JSON.parse(result.stdout);
      assert.deepEqual(summary.items, { succeeded: 3, failed: 1 });
      assert.equal(summary.firstError.kind, 'partial');
      assert.deepEqual(readLines(job.output), ['t f-0000.txt a', 't f-0002.txt c', 't f-0003.txt d']);
    });

    it('an error fails the mini-batch with its message; thresholds apply', async () => {
      const job = wordsJob(bridge, ['a', 'b', 'raise', 'd'], { mini_batch_error_threshold: 0 });
      const result = await runCli(['run', job.jobFile, '--json', ...bridge.args], { home: job.home });
      assert.equal(result.code, 1);
      const summary = JSON.parse(result.stdout);
      assert.equal(summary.firstError.kind, 'error');
      assert.equal(summary.firstError.message, 'asked to fail on f-0002.txt');
      assert.match(summary.reason, /mini_batch_error_threshold exceeded: 1 failed mini-batches > 0 allowed/);
    });

    it('no return value is a bad return', async () => {
      const job = wordsJob(bridge, ['none', 'b']);
      const result = await runCli(['run', job.jobFile, '--json', ...bridge.args], { home: job.home });
      assert.equal(result.code, 0);
      const summary = JSON.parse(result.stdout);
      assert.equal(summary.firstError.kind, 'bad-return');
      assert.match(summary.firstError.message, /^run\(\) returned (undefined|None); expected /);
      assert.deepEqual(summary.items, { succeeded: 0, failed: 2 });
    });
  });
}
