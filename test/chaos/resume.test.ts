import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { CLI, makeJob, onlyRunDir, readLines, runCli } from '../helpers.js';

const ROUNDS = Number(process.env.CHAOS_ROUNDS ?? 2);
const FILES = 60;
const expected = Array.from({ length: FILES }, (_, i) => `f-${String(i).padStart(4, '0')}.txt`);

/** Starts a run, and sends `signal` to the controller after a random moment while it works. */
async function interrupt(jobFile: string, home: string, signal: NodeJS.Signals): Promise<number | null> {
  const child = spawn(process.execPath, [CLI, 'run', jobFile], { env: { ...process.env, MINIBATCH_HOME: home }, stdio: 'ignore' });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code, sig) => resolve(code ?? (sig ? 128 : null))));
  // Wait for the run to exist (a loaded machine starts slowly), then strike at a random moment.
  for (let waited = 0; waited < 15_000 && !runStarted(home); waited += 20) await sleep(20);
  await sleep(100 + Math.floor(Math.random() * 700));
  child.kill(signal);
  return exited;
}

function runStarted(home: string): boolean {
  const runs = join(home, 'runs');
  return existsSync(runs) && readdirSync(runs).some((id) => existsSync(join(runs, id, 'state', 'journal.log')));
}

describe('chaos: the controller killed or stopped mid-job, then resumed', () => {
  for (let round = 0; round < ROUNDS; round++) {
    for (const signal of ['SIGKILL', 'SIGTERM'] as const) {
      it(`${signal}, round ${round + 1}: the resumed output is identical to a clean run`, async () => {
        const job = makeJob({ script: 'fixture_slow.mjs', files: FILES, size: 2, processes: 2, programArguments: '--ms 100' });
        const code = await interrupt(job.jobFile, job.home, signal);
        const runDir = onlyRunDir(job.home);
        const journal = readFileSync(join(runDir, 'state', 'journal.log'), 'utf8');
        const before = (journal.match(/"k":"commit"/g) ?? []).length;
        assert.ok(before < FILES / 2, `interrupted before the end (${before} committed, exit ${code})`);
        if (signal === 'SIGTERM') {
          assert.equal(code, 143);
          assert.match(readFileSync(join(runDir, 'logs', 'job_result.txt'), 'utf8'), /^Status: Cancelled/);
        }
        const resumed = await runCli(['job', 'resume', runDir.split('/').at(-1) ?? '', '--json'], { home: job.home });
        assert.equal(resumed.code, 0, resumed.stderr);
        const summary = JSON.parse(resumed.stdout);
        assert.equal(summary.miniBatches.succeeded, FILES / 2);
        assert.deepEqual(readLines(job.output), expected, 'every row once, in input order');
        const commits = [...readFileSync(join(runDir, 'state', 'journal.log'), 'utf8').matchAll(/"k":"commit","r":\{"id":(\d+)/g)].map((m) => Number(m[1]));
        assert.equal(new Set(commits).size, commits.length, 'no mini-batch committed twice');
        assert.equal(commits.length, FILES / 2);
        assert.equal(readdirSync(join(job.dir, 'out')).length, 1, 'no partial output left over');
        process.stderr.write(`resume ${signal} round ${round + 1}: ${before} mini-batches kept, ${FILES / 2 - before} run on resume\n`);
      });
    }
  }

  it('refuses to resume after the code changed, unless --allow-changes', async () => {
    const job = makeJob({ script: 'fixture_slow.mjs', files: 20, size: 2, processes: 1, programArguments: '--ms 300' });
    await interrupt(job.jobFile, job.home, 'SIGKILL');
    const id = onlyRunDir(job.home).split('/').at(-1) ?? '';
    appendFileSync(join(job.dir, 'src', 'fixture_slow.mjs'), '\n// changed\n');
    const refused = await runCli(['job', 'resume', id], { home: job.home });
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, new RegExp(`run ${id} cannot be resumed as it was: the code folder .*/src changed since it started; .*--allow-changes`));
    const allowed = await runCli(['job', 'resume', id, '--allow-changes'], { home: job.home });
    assert.equal(allowed.code, 0, allowed.stderr);
    assert.match(allowed.stderr, /warning: resuming with changes \(--allow-changes\): the code folder .* changed/);
    assert.equal(readLines(job.output).length, 20);
  });

  it('an unknown run id is a usage error', async () => {
    const result = await runCli(['job', 'resume', 'no-such-run']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /^minibatch: no run no-such-run under /m);
  });
});

describe('rerun-failed', () => {
  it('re-runs only the mini-batches whose final try failed; the output becomes complete and in order', async () => {
    const job = makeJob({ script: 'fixture_fail_while_broken.mjs', files: 10, size: 2, retry: { max_retries: 0 } });
    writeFileSync(join(job.dir, 'state', 'broken.txt'), 'f-0003.txt\nf-0008.txt\n');
    const first = await runCli(['run', job.jobFile, '--json'], { home: job.home });
    assert.equal(first.code, 0, first.stderr);
    assert.equal(JSON.parse(first.stdout).miniBatches.failed, 2);
    assert.deepEqual(readLines(job.output), ['f-0000.txt', 'f-0001.txt', 'f-0004.txt', 'f-0005.txt', 'f-0006.txt', 'f-0007.txt']);

    rmSync(join(job.dir, 'state', 'broken.txt'));
    writeFileSync(join(job.dir, 'state', 'runs.log'), '');
    const id = onlyRunDir(job.home).split('/').at(-1) ?? '';
    const again = await runCli(['job', 'rerun-failed', id, '--json'], { home: job.home });
    assert.equal(again.code, 0, again.stderr);
    const summary = JSON.parse(again.stdout);
    assert.deepEqual(summary.miniBatches, { total: 5, succeeded: 5, failed: 0, retries: 0 });
    assert.deepEqual(readLines(join(job.dir, 'state', 'runs.log')).sort(), ['1', '4'], 'only the failed mini-batches ran');
    assert.deepEqual(readLines(job.output), expected.slice(0, 10));
  });
});

describe('graceful stop', () => {
  it('SIGINT lets running mini-batches finish and commit, starts no new one, says how to resume (exit 130)', async () => {
    const job = makeJob({ script: 'fixture_slow_logged.mjs', files: 10, size: 1, processes: 2, programArguments: '--ms 1500' });
    const started = () => (existsSync(join(job.dir, 'state', 'runs.log')) ? readLines(join(job.dir, 'state', 'runs.log')).length : 0);
    const child = spawn(process.execPath, [CLI, 'run', job.jobFile], { env: { ...process.env, MINIBATCH_HOME: job.home }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    for (let waited = 0; waited < 20_000 && started() === 0; waited += 20) await sleep(20);
    await sleep(200); // a mini-batch is running (1.5 s each)
    child.kill('SIGINT');
    assert.equal(await exited, 130, stderr);
    const runDir = onlyRunDir(job.home);
    const commits = (readFileSync(join(runDir, 'state', 'journal.log'), 'utf8').match(/"k":"commit"/g) ?? []).length;
    assert.ok(commits >= 1 && commits < 10, `the running mini-batches finished and committed (${commits})`);
    assert.equal(commits, started(), 'every mini-batch that started was let finish and committed; no other started');
    const result = readFileSync(join(runDir, 'logs', 'job_result.txt'), 'utf8');
    assert.match(result, /^Status: Cancelled\nReason: cancelled by the user\nResumable: minibatch job resume /);
    assert.equal(existsSync(job.output), false);
    assert.deepEqual(readdirSync(join(job.dir, 'out')), [], 'no partial output');
  });
});
