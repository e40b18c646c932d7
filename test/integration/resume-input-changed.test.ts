import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { CLI, makeJob, onlyRunDir, readLines, runCli } from '../helpers.js';

/*
 * `job resume` compares the input with what the run started from (each file's path, size and
 * mtime; contents are not read): a changed input refuses the resume unless --allow-changes,
 * since the committed rows came from the old input.
 */

/** A run stopped (SIGTERM) once its first mini-batch committed, so it can be resumed. */
async function stoppedRun() {
  const job = makeJob({ script: 'fixture_slow.mjs', files: 10, size: 2, processes: 1, programArguments: '--ms 400' });
  const child = spawn(process.execPath, [CLI, 'run', job.jobFile], { env: { ...process.env, MINIBATCH_HOME: job.home }, stdio: 'ignore' });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : null))));
  const committed = () => {
    try {
      return readFileSync(join(onlyRunDir(job.home), 'state', 'journal.log'), 'utf8').includes('"k":"commit"');
    } catch {
      return false;
    }
  };
  for (let waited = 0; waited < 30_000 && !committed(); waited += 20) await sleep(20);
  child.kill('SIGTERM');
  assert.equal(await exited, 143, 'stopped, and resumable');
  return { ...job, id: onlyRunDir(job.home).split('/').at(-1) ?? '' };
}

const ALL = Array.from({ length: 10 }, (_, i) => `f-${String(i).padStart(4, '0')}.txt`);

describe('job resume: the input must be unchanged', () => {
  it('resumes an unchanged input', async () => {
    const job = await stoppedRun();
    const resumed = await runCli(['job', 'resume', job.id], { home: job.home });
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.deepEqual(readLines(job.output), ALL);
  });

  it('refuses when files were added, removed or modified, saying how many; --allow-changes resumes anyway', async () => {
    const job = await stoppedRun();
    const data = join(job.dir, 'data');
    writeFileSync(join(data, 'f-0100.txt'), '100\n');
    rmSync(join(data, 'f-0009.txt'));
    appendFileSync(join(data, 'f-0000.txt'), 'more\n');

    const refused = await runCli(['job', 'resume', job.id], { home: job.home });
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(
      refused.stderr,
      new RegExp(`^minibatch: run ${job.id} cannot be resumed as it was: input data \\(${data}\\) changed: 3 files added/removed/modified \\(1 added, 1 removed, 1 modified\\) since it started; .* Use --allow-changes to resume anyway\\.$`, 'm'),
    );

    const allowed = await runCli(['job', 'resume', job.id, '--allow-changes'], { home: job.home });
    assert.equal(allowed.code, 0, allowed.stderr);
    assert.match(allowed.stderr, /warning: resuming with changes \(--allow-changes\): input data \(.*\/data\) changed: 3 files added\/removed\/modified/);
  });

  it('a run that ends before any mini-batch commits still journals its inputs (the fingerprint waits for the first commit, a second, or the end)', async () => {
    const job = makeJob({ script: 'fixture_init_throws.mjs', files: 4, size: 2, processes: 1 });
    const run = await runCli(['run', job.jobFile], { home: job.home });
    assert.notEqual(run.code, 0, 'init() always throws: the run fails');
    const lines = readFileSync(join(onlyRunDir(job.home), 'state', 'journal.log'), 'utf8').split('\n').filter(Boolean);
    const records = lines.map((line) => JSON.parse(line.split('\t')[1] ?? '') as { k: string; inputs?: { files: number }[] });
    assert.equal(records.filter((record) => record.k === 'commit').length, 0, 'nothing committed');
    const inputs = records.filter((record) => record.k === 'inputs');
    assert.equal(inputs.length, 1, 'journaled once');
    assert.equal(inputs[0]?.inputs?.[0]?.files, 4);
    assert.ok(records.findIndex((record) => record.k === 'inputs') < records.findIndex((record) => record.k === 'end'), 'before the end record');
  });

  it('a run stopped before its inputs were fingerprinted still resumes, and says changes cannot be detected', async () => {
    const job = await stoppedRun();
    const journal = join(onlyRunDir(job.home), 'state', 'journal.log');
    const lines = readFileSync(journal, 'utf8').split('\n');
    // A fresh run journals its inputs once its fingerprint is known; drop that, as a kill before it would.
    const kinds = lines.map((line) => (line ? (JSON.parse(line.split('\t')[1] ?? '') as { k: string }).k : ''));
    assert.equal(kinds[0], 'run');
    assert.equal(kinds.filter((kind) => kind === 'inputs').length, 1, 'a new run journals its inputs once');
    writeFileSync(journal, lines.filter((_, index) => kinds[index] !== 'inputs').join('\n'));
    writeFileSync(join(job.dir, 'data', 'f-0100.txt'), '100\n');

    const resumed = await runCli(['job', 'resume', job.id], { home: job.home });
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stderr, /its first session stopped before its inputs were fingerprinted; changes to them since cannot be detected/);
    assert.doesNotMatch(resumed.stderr, /changed:/);
    assert.equal(readLines(job.output).length, 11);
  });
});
