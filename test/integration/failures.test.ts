import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { countMatching, makeJob, onlyRunDir, readLines, runCli } from '../helpers.js';

const names = (count: number) => Array.from({ length: count }, (_, i) => `f-${String(i).padStart(4, '0')}.txt`);

async function runJson(jobFile: string, home: string, extraArgs: string[] = []) {
  const result = await runCli(['run', jobFile, '--json', ...extraArgs], { home });
  const summary = result.stdout ? JSON.parse(result.stdout) : undefined;
  return { ...result, summary };
}

describe('retries, timeouts and crashes', () => {
  it('retries a failed mini-batch and keeps only the rows of the successful try, exactly once', async () => {
    const job = makeJob({ script: 'fixture_fail_first_try.mjs', files: 8, size: 2 });
    const { code, summary, stderr } = await runJson(job.jobFile, job.home);
    assert.equal(code, 0, stderr);
    assert.deepEqual(summary.miniBatches, { total: 4, succeeded: 4, failed: 0, retries: 4 });
    assert.deepEqual(readLines(job.output), names(8).map((name) => `${name} try 2`));
    const journal = readFileSync(join(onlyRunDir(job.home), 'state', 'journal.log'), 'utf8');
    assert.equal((journal.match(/"k":"attempt"/g) ?? []).length, 4, 'each failed try is journaled');
    assert.equal((journal.match(/"k":"commit"/g) ?? []).length, 4, 'each mini-batch is committed once');
  });

  it('a mini-batch that fails every try is failed after max_retries + 1 tries', async () => {
    const job = makeJob({ script: 'fixture_fail_always.mjs', files: 6, size: 2, programArguments: '--bad f-0003.txt', retry: { max_retries: 1 } });
    const { code, summary, stderr } = await runJson(job.jobFile, job.home);
    assert.equal(code, 0, `thresholds default to -1: the job still succeeds. ${stderr}`);
    assert.deepEqual(summary.miniBatches, { total: 3, succeeded: 2, failed: 1, retries: 1 });
    assert.deepEqual(summary.items, { succeeded: 4, failed: 2 });
    assert.match(summary.firstError.message, /bad input in mini-batch 1/);
    assert.deepEqual(readLines(job.output), ['f-0000.txt', 'f-0001.txt', 'f-0004.txt', 'f-0005.txt']);
    const errorLog = ['process-0.txt', 'process-1.txt']
      .map((name) => join(onlyRunDir(job.home), 'logs/user/error/node-0', name))
      .map((path) => (existsSync(path) ? readFileSync(path, 'utf8') : ''))
      .join('');
    assert.match(errorLog, /mini-batch 1 try 2 failed \(error\)\nError: bad input in mini-batch 1\n\s+at (Module\.)?run \(/);
  });

  it('kills a run() that exceeds the timeout, replaces the process (init again) and retries', async () => {
    const job = makeJob({ script: 'fixture_hang_once.mjs', files: 6, size: 2, processes: 1, retry: { timeout: 1 } });
    const started = Date.now();
    const { code, summary, stderr } = await runJson(job.jobFile, job.home);
    assert.equal(code, 0, stderr);
    assert.ok(Date.now() - started < 20_000, 'the hung script did not hang the job');
    assert.deepEqual(summary.miniBatches, { total: 3, succeeded: 3, failed: 0, retries: 1 });
    assert.deepEqual(readLines(job.output), names(6));
    assert.equal(countMatching(join(job.dir, 'state', 'init.log'), /^init /), 2, 'the replacement process ran init() again');
    const processed = readFileSync(join(onlyRunDir(job.home), 'logs/sys/job_report/processed_mini-batches.csv'), 'utf8');
    assert.match(processed, /\n1,2,node-0\/process-0,/);
  });

  it('fires ctx.signal on timeout so a cooperative script stops early; the attempt still counts as timed out', async () => {
    const job = makeJob({ script: 'fixture_abortable_slow.mjs', files: 2, size: 1, processes: 1, retry: { timeout: 1 } });
    const { code, summary, stderr } = await runJson(job.jobFile, job.home);
    assert.equal(code, 0, stderr);
    assert.equal(summary.miniBatches.retries, 1);
    assert.equal(summary.firstError.kind, 'timeout');
  });

  it('the run() timeout counts from each mini-batch\'s own start, not from the first one a process ran', async () => {
    const job = makeJob({ script: 'fixture_deadline_per_task.mjs', files: 2, size: 1, processes: 1, retry: { timeout: 1 } });
    const { code, summary, stderr } = await runJson(job.jobFile, job.home);
    assert.equal(code, 0, stderr);
    assert.deepEqual(summary.miniBatches, { total: 2, succeeded: 2, failed: 0, retries: 0 });
  });

  it('a worker that exits mid-batch fails that try; the batch is retried on a fresh process', async () => {
    const job = makeJob({ script: 'fixture_exit_mid_batch.mjs', files: 8, size: 2 });
    const { code, summary, stderr } = await runJson(job.jobFile, job.home);
    assert.equal(code, 0, stderr);
    assert.deepEqual(summary.miniBatches, { total: 4, succeeded: 4, failed: 0, retries: 1 });
    assert.equal(summary.firstError.kind, 'crash');
    assert.match(summary.firstError.message, /died during run\(\) \(exit code 3\)/);
    assert.deepEqual(readLines(job.output), names(8));
  });

  it('a file that vanishes mid-run fails its mini-batch with the file named; the rest go on', async () => {
    const job = makeJob({ script: 'fixture_delete_later_file.mjs', files: 8, size: 2, processes: 1, retry: { max_retries: 1 } });
    const { code, summary, stderr } = await runJson(job.jobFile, job.home);
    assert.equal(code, 0, stderr);
    assert.deepEqual(summary.miniBatches, { total: 4, succeeded: 3, failed: 1, retries: 1 });
    assert.equal(summary.firstError.batchId, 2);
    assert.match(summary.firstError.message, /^input file \/.*\/data\/f-0005\.txt cannot be read: it no longer exists; run\(\) failed with: ENOENT: no such file or directory, open '\/.*\/data\/f-0005\.txt'$/);
    assert.deepEqual(readLines(job.output), ['f-0000.txt', 'f-0001.txt', 'f-0002.txt', 'f-0003.txt', 'f-0006.txt', 'f-0007.txt']);
  });

  it('max_worker_memory replaces a process that grew past it, between mini-batches, without failing anything', async () => {
    const job = makeJob({ script: 'fixture_memory_hog.mjs', files: 6, size: 2, processes: 1, extra: { max_worker_memory: '100MB' } });
    const { code, summary, stderr } = await runJson(job.jobFile, job.home);
    assert.equal(code, 0, stderr);
    assert.deepEqual(summary.miniBatches, { total: 3, succeeded: 3, failed: 0, retries: 0 });
    assert.deepEqual(readLines(job.output), names(6));
    assert.ok(countMatching(join(job.dir, 'state', 'init.log'), /^init /) >= 3, 'a new process (and init) after each mini-batch');
    assert.match(readFileSync(join(onlyRunDir(job.home), 'logs/sys/minibatch.log'), 'utf8'), /uses \d+ MB, over max_worker_memory \(100 MB\): replacing it/);
  });

  it('restarts a process whose init() failed, and goes on', async () => {
    const job = makeJob({ script: 'fixture_init_fails_once.mjs', files: 4, size: 2, processes: 1 });
    const { code, summary, stderr } = await runJson(job.jobFile, job.home);
    assert.equal(code, 0, stderr);
    assert.equal(summary.miniBatches.succeeded, 2);
    assert.match(readFileSync(join(onlyRunDir(job.home), 'logs/sys/minibatch.log'), 'utf8'), /init\(\) failed \(1\/3\): transient init failure; restarting it/);
  });

  it('fails the job with the init error when no worker can initialise (3 × processes tries)', async () => {
    const job = makeJob({ script: 'fixture_init_throws.mjs', files: 4, size: 2, processes: 2 });
    const { code, summary } = await runJson(job.jobFile, job.home);
    assert.equal(code, 1);
    assert.equal(summary.status, 'failed');
    assert.match(summary.reason, /no worker could initialise: init\(\) failed 6 times on node-0; the node stops\. Last error: cannot load the model: weights file missing/);
    assert.equal(existsSync(job.output), false, 'no output file');
    const result = readFileSync(join(onlyRunDir(job.home), 'logs/job_result.txt'), 'utf8');
    assert.match(result, /^Status: Failed\nReason: no worker could initialise/);
    assert.match(result, /Error: cannot load the model: weights file missing\n\s+at (Module\.)?init \(/);
  });
});

describe('thresholds', () => {
  it('mini_batch_error_threshold: aborts when failed mini-batches exceed it, exit 1, no output', async () => {
    const job = makeJob({
      script: 'fixture_fail_always.mjs',
      files: 10,
      size: 1,
      processes: 1,
      programArguments: '--bad f-0001.txt,f-0002.txt',
      retry: { max_retries: 0 },
      extra: { mini_batch_error_threshold: 1 },
    });
    const result = await runCli(['run', job.jobFile], { home: job.home });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /Reason: mini_batch_error_threshold exceeded: 2 failed mini-batches > 1 allowed/);
    assert.match(result.stderr, /First error \(mini-batch 1, try 1, node-0\/process-0\): bad input in mini-batch 1/);
    assert.equal(existsSync(job.output), false);
    assert.equal(existsSync(`${job.output}.minibatch-partial`), false);
    const jobResult = readFileSync(join(onlyRunDir(job.home), 'logs/job_result.txt'), 'utf8');
    assert.match(jobResult, /^Status: Failed\nReason: mini_batch_error_threshold exceeded/);
    assert.match(jobResult, /First error \(mini-batch 1, try 1 of 1, node-0\/process-0, error\):\n\s+Error: bad input in mini-batch 1/);
  });

  it('mini_batch_error_threshold: equal to the threshold is not exceeded', async () => {
    const job = makeJob({ script: 'fixture_fail_always.mjs', files: 6, size: 1, programArguments: '--bad f-0001.txt,f-0002.txt', retry: { max_retries: 0 }, extra: { mini_batch_error_threshold: 2 } });
    const { code, summary } = await runJson(job.jobFile, job.home);
    assert.equal(code, 0);
    assert.equal(summary.miniBatches.failed, 2);
    assert.deepEqual(readLines(job.output), ['f-0000.txt', 'f-0003.txt', 'f-0004.txt', 'f-0005.txt']);
  });

  it('--allowed_failed_count in program_arguments is the same threshold', async () => {
    const job = makeJob({ script: 'fixture_fail_always.mjs', files: 6, size: 1, programArguments: '--bad f-0001.txt,f-0002.txt --allowed_failed_count 1', retry: { max_retries: 0 } });
    const { code, summary } = await runJson(job.jobFile, job.home);
    assert.equal(code, 1);
    assert.match(summary.reason, /mini_batch_error_threshold exceeded: 2 failed mini-batches > 1 allowed/);
  });

  it('error_threshold counts failed items (inputs minus returned elements)', async () => {
    const job = makeJob({ script: 'fixture_partial.mjs', files: 9, size: 3, programArguments: '--bad f-0001.txt,f-0004.txt,f-0007.txt --error_threshold 2', retry: { max_retries: 0 } });
    const { code, summary } = await runJson(job.jobFile, job.home);
    assert.equal(code, 1);
    assert.match(summary.reason, /error_threshold exceeded: 3 failed items > 2 allowed/);
    assert.equal(summary.firstError.kind, 'partial');
  });

  it('error_threshold in YAML wins over --error_threshold in program_arguments', async () => {
    const job = makeJob({ script: 'fixture_partial.mjs', files: 9, size: 3, programArguments: '--bad f-0001.txt,f-0004.txt,f-0007.txt --error_threshold 2', retry: { max_retries: 0 }, extra: { error_threshold: 3 } });
    const { code, summary } = await runJson(job.jobFile, job.home);
    assert.equal(code, 0);
    assert.deepEqual(summary.items, { succeeded: 6, failed: 3 });
    // partial mini-batches are failed, but their returned rows are kept
    assert.equal(readLines(job.output).length, 6);
  });

  it('allowed_failed_percent is checked once every mini-batch is scheduled', async () => {
    const job = makeJob({ script: 'fixture_fail_always.mjs', files: 10, size: 1, programArguments: '--bad f-0001.txt,f-0002.txt,f-0003.txt --allowed_failed_percent 20', retry: { max_retries: 0 } });
    const { code, summary } = await runJson(job.jobFile, job.home);
    assert.equal(code, 1);
    assert.match(summary.reason, /allowed_failed_percent exceeded: 3 of 10 mini-batches failed \(30%\) > 20% allowed/);
    const ok = makeJob({ script: 'fixture_fail_always.mjs', files: 10, size: 1, programArguments: '--bad f-0001.txt,f-0002.txt,f-0003.txt', retry: { max_retries: 0 }, extra: { allowed_failed_percent: 30 } });
    const passed = await runJson(ok.jobFile, ok.home);
    assert.equal(passed.code, 0);
    assert.equal(passed.summary.miniBatches.failed, 3);
  });

  it('thresholds combine: the first one exceeded aborts the job', async () => {
    const job = makeJob({
      script: 'fixture_partial.mjs',
      files: 8,
      size: 2,
      processes: 1,
      programArguments: '--bad f-0000.txt,f-0001.txt,f-0002.txt',
      retry: { max_retries: 0 },
      extra: { error_threshold: 10, mini_batch_error_threshold: 1, allowed_failed_percent: 90 },
    });
    const { code, summary } = await runJson(job.jobFile, job.home);
    assert.equal(code, 1);
    assert.match(summary.reason, /mini_batch_error_threshold exceeded: 2 failed mini-batches > 1 allowed/);
  });

  it('run() returning undefined fails the mini-batch with a message that says so', async () => {
    const job = makeJob({ script: 'fixture_return_undefined.mjs', files: 2, size: 2, retry: { max_retries: 0 }, extra: { mini_batch_error_threshold: 0 } });
    const { code, summary } = await runJson(job.jobFile, job.home);
    assert.equal(code, 1);
    assert.equal(summary.firstError.kind, 'bad-return');
    assert.equal(summary.firstError.message, 'run() returned undefined; expected an array with one element per successful item (return [] when nothing succeeded)');
  });
});

describe('job timeouts', () => {
  it('progress_update_timeout: no mini-batch finishing for that long fails the job as stuck', async () => {
    const job = makeJob({ script: 'fixture_slow.mjs', files: 2, size: 1, processes: 1, programArguments: '--ms 5000', extra: { progress_update_timeout: 1 } });
    const started = Date.now();
    const { code, summary } = await runJson(job.jobFile, job.home);
    assert.equal(code, 1);
    assert.match(summary.reason, /progress_update_timeout exceeded: no mini-batch finished for 1s; the job looks stuck/);
    assert.ok(Date.now() - started < 5000, 'running work was stopped, not waited for');
  });

  it('first_task_creation_timeout: nothing scheduled in time fails the job', async () => {
    const job = makeJob({ script: 'fixture_init_slow.mjs', files: 2, size: 1, processes: 1, programArguments: '--init_ms 10000', extra: { first_task_creation_timeout: 1 } });
    const { code, summary } = await runJson(job.jobFile, job.home);
    assert.equal(code, 1);
    assert.match(summary.reason, /first_task_creation_timeout exceeded: no mini-batch was scheduled within 1s of the start/);
  });
});
